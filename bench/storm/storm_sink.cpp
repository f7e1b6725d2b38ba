// storm_sink: the connection-storm benchmark's target. Several processes listen on one loopback
// port (SO_REUSEPORT), accept and hold every connection until its client goes, so one machine can
// hold more connections than one process's open-files limit allows. Counts are kept in shared
// memory and printed when it ends (stdin closed, SIGINT or SIGTERM).
//
//   storm_sink [--processes N] [--backlog B]   prints "port P" once every process listens

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct sink_counts {
  std::atomic<long> accepted{0};
  std::atomic<long> held{0};
  std::atomic<long> peak_held{0};
};

void report_failure(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "storm_sink: %s\n", ex.what());
  }
}

asio::awaitable<void> hold(tcp::socket socket, sink_counts& counts) {
  const long now = ++counts.held;
  for (long peak = counts.peak_held.load(); now > peak && !counts.peak_held.compare_exchange_weak(peak, now);) {
  }
  std::array<char, 512> buffer;
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
    if (ec) break;
  }
  --counts.held;
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, sink_counts& counts) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    ++counts.accepted;
    asio::co_spawn(acceptor.get_executor(), hold(std::move(socket), counts), report_failure);
  }
}

tcp::acceptor listen_on(asio::io_context& io, unsigned short port, int backlog) {
  tcp::acceptor a(io);
  a.open(tcp::v4());
  const int one = 1;
  ::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  a.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  a.listen(backlog);
  return a;
}

// One process's server; returns when asked to stop (parent: stdin closed or a signal).
void serve(tcp::acceptor::native_handle_type fd_or_none, unsigned short port, int backlog, sink_counts& counts,
           bool parent, int ready_fd) {
  asio::io_context io(1);
  tcp::acceptor acceptor = fd_or_none >= 0 ? tcp::acceptor(io, tcp::v4(), fd_or_none) : listen_on(io, port, backlog);
  if (ready_fd >= 0) {
    const char ready = 1;
    if (::write(ready_fd, &ready, 1) != 1) std::fprintf(stderr, "storm_sink: cannot report readiness\n");
    ::close(ready_fd);
  }
  asio::co_spawn(io, accept_loop(acceptor, counts), report_failure);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  std::unique_ptr<asio::posix::stream_descriptor> input;
  std::array<char, 64> scratch;
  if (parent) {
    input = std::make_unique<asio::posix::stream_descriptor>(io, ::dup(STDIN_FILENO));
    std::function<void()> read_input = [&] {
      input->async_read_some(asio::buffer(scratch), [&](const boost::system::error_code& ec, std::size_t) {
        if (ec) io.stop();
        else read_input();
      });
    };
    read_input();
  }
  io.run();
}

}  // namespace

int main(int argc, char** argv) {
  int processes = 4;
  int backlog = 4096;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--processes") == 0) processes = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--backlog") == 0) backlog = std::atoi(argv[i + 1]);
  }
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);

  auto* counts = static_cast<sink_counts*>(::mmap(nullptr, sizeof(sink_counts) * static_cast<std::size_t>(processes),
                                                  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  for (int i = 0; i < processes; ++i) new (&counts[i]) sink_counts();

  // The parent's listener picks the port; the children join its SO_REUSEPORT group.
  unsigned short port = 0;
  int parent_fd = -1;
  {
    asio::io_context probe;
    auto a = listen_on(probe, 0, backlog);
    port = a.local_endpoint().port();
    parent_fd = a.release();
  }
  const pid_t parent = ::getpid();
  int ready[2];
  if (::pipe(ready) != 0) return 2;
  std::vector<pid_t> children;
  for (int i = 1; i < processes; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(0);
      ::close(parent_fd);
      ::close(ready[0]);
      serve(-1, port, backlog, counts[i], false, ready[1]);
      ::_exit(0);
    }
    children.push_back(pid);
  }
  ::close(ready[1]);
  for (int i = 1; i < processes; ++i) {  // every child listens before anyone is told the port
    char c = 0;
    if (::read(ready[0], &c, 1) != 1) return 2;
  }
  ::close(ready[0]);
  std::printf("port %u\n", port);
  std::fflush(stdout);
  serve(parent_fd, port, backlog, counts[0], true, -1);
  for (auto pid : children) ::kill(pid, SIGTERM);
  for (auto pid : children) ::waitpid(pid, nullptr, 0);
  long accepted = 0;
  long peak = 0;
  for (int i = 0; i < processes; ++i) {
    accepted += counts[i].accepted;
    peak += counts[i].peak_held;  // an upper bound on the simultaneous peak
  }
  std::printf("accepted %ld peak_held_sum %ld\n", accepted, peak);
  return 0;
}
