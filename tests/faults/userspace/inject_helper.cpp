// A stand-in for a faultline run that gets killed: records the undo entry in a state file the way
// the runner does, injects a `network` fault with engine: userspace, prints "injected" and waits
// to be killed. Usage: userspace_inject_helper STATE_FILE NETNS DEVICE
#include "engine/state_file.hpp"
#include "faults/fault.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

#include <chrono>
#include <iostream>

using namespace faultline;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: userspace_inject_helper STATE_FILE NETNS DEVICE\n";
    return 2;
  }
  try {
    faults::fault_registry registry;
    faults::register_builtin_faults(registry);
    const auto* type = registry.find("network");
    params p;
    p.set("netns", std::string(argv[2]));
    p.set("delay", std::chrono::nanoseconds(std::chrono::milliseconds(50)));
    p.set("rate", 10e6);
    p.set("engine", std::string("userspace"));
    type->validate(p);
    boost::asio::io_context io;
    faults::fault_context ctx{io.get_executor(), nullptr, argv[3], "killed-step"};
    auto fault = type->create(p, ctx);

    engine::state_file state(argv[1]);
    engine::undo_entry entry;
    entry.run_id = "kill-test";
    entry.pid = ::getpid();
    entry.pid_start_time = engine::process_start_time(entry.pid);
    entry.experiment = "kill-test";
    entry.step = "killed-step";
    entry.type = "network";
    entry.record = fault->undo_record();
    entry.written_at = "2026-01-01T00:00:00Z";
    state.add(entry);

    auto done = boost::asio::co_spawn(io, fault->inject(), boost::asio::use_future);
    io.run();
    done.get();
    std::cout << "injected" << std::endl;
    for (;;) ::pause();
  } catch (const std::exception& e) {
    std::cerr << "userspace_inject_helper: " << e.what() << "\n";
    return 1;
  }
}
