#include "faults/storm/storm_worker.hpp"

#include "faults/storm/storm_generator.hpp"
#include "faults/storm/storm_log.hpp"
#include "faults/storm/worker_process.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace faultline::storm {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Connections a worker can hold: its open-files limit less what the process itself needs.
constexpr std::int64_t reserved_files = 64;

class worker {
public:
  worker(asio::io_context& io, int in_fd, int out_fd) : io_(io), in_(io, ::dup(in_fd)), out_(io, ::dup(out_fd)) {}

  awaitable<int> run() {
    nlohmann::json hello;
    hello["type"] = "hello";
    hello["pid"] = ::getpid();
    co_await send(hello);
    auto first = co_await read_line();
    if (!first) co_return 0;  // the parent went away before it said anything
    nlohmann::json ready;
    nlohmann::json failure;
    try {
      auto config = storm_config_from_json(nlohmann::json::parse(*first).at("config"));
      const auto open_files = raise_open_files_limit();
      const auto capacity = open_files - reserved_files;
      if (config.connections > capacity)
        throw std::invalid_argument("a worker can hold at most " + std::to_string(capacity) +
                                    " connections (open-files limit " + std::to_string(open_files) + "); asked for " +
                                    std::to_string(config.connections) + ": use more workers");
      generator_ = storm_generator::create(io_, std::move(config));
      ready["type"] = "ready";
      ready["pid"] = ::getpid();
      ready["open_files"] = open_files;
    } catch (const std::exception& e) {
      failure["type"] = "error";
      failure["message"] = e.what();
    }
    // Messages are built outside co_await: GCC 12 cannot keep braced temporaries across a suspension.
    if (!failure.is_null()) {
      co_await send(failure);
      co_return 2;
    }
    co_await send(ready);
    // Commands arrive while the storm runs; end of input stops it.
    asio::co_spawn(io_, follow_commands(), log_stray_exception(storm_log(), "storm worker commands"));
    while (!started_ && !generator_->finished()) {
      if (stop_requested_) generator_->stop();
      co_await tick();
    }
    // Counts every 100 ms; the latency histograms (up to a few thousand slots) once a second.
    // (Messages are locals, not temporaries of the co_await expression: GCC 12 destroys a
    // conditional's temporary twice across a suspension.)
    for (int n = 0; !generator_->finished(); ++n) {
      const auto progress = n % 10 == 0 ? report_message("progress") : counts_message();
      co_await send(progress);
      co_await tick();
    }
    const auto final_message = report_message("final");
    co_await send(final_message);
    co_return 0;
  }

private:
  nlohmann::json counts_message() const {
    nlohmann::json message;
    message["type"] = "progress";
    message["counts"] = to_json(generator_->counts());
    message["rss_bytes"] = resident_bytes();
    return message;
  }

  nlohmann::json report_message(const char* type) const {
    auto report = generator_->report();
    report.workers = 1;
    report.peak_rss_bytes = peak_resident_bytes();
    nlohmann::json message;
    message["type"] = type;
    message["report"] = to_json(report);
    message["rss_bytes"] = resident_bytes();
    return message;
  }

  awaitable<void> follow_commands() {
    for (;;) {
      auto line = co_await read_line();
      std::string command = "stop";
      if (line) {
        try {
          command = nlohmann::json::parse(*line).at("command").get<std::string>();
        } catch (const std::exception& e) {
          storm_log()->error("storm worker {}: bad command line ({}); stopping", ::getpid(), e.what());
        }
      }
      if (command == "start" && !started_) {
        started_ = true;
        generator_->start();
      } else {
        stop_requested_ = true;
        generator_->stop();
      }
      if (!line) co_return;
    }
  }

  awaitable<std::optional<std::string>> read_line() {
    auto [ec, n] = co_await asio::async_read_until(in_, asio::dynamic_buffer(input_), '\n', use_tuple);
    if (ec) co_return std::nullopt;
    std::string line = input_.substr(0, n - 1);
    input_.erase(0, n);
    co_return line;
  }

  awaitable<void> send(const nlohmann::json& message) {
    auto line = message.dump() + "\n";
    auto [ec, n] = co_await asio::async_write(out_, asio::buffer(line), use_tuple);
    if (ec && generator_) generator_->stop();  // the parent is gone: nobody to report to
  }

  awaitable<void> tick() {
    asio::steady_timer t(io_, worker_progress_interval);
    co_await t.async_wait(use_tuple);
  }

  asio::io_context& io_;
  asio::posix::stream_descriptor in_;
  asio::posix::stream_descriptor out_;
  std::string input_;
  std::shared_ptr<storm_generator> generator_;
  bool started_ = false;
  bool stop_requested_ = false;
};

}  // namespace

int run_storm_worker(int in_fd, int out_fd) {
  ::signal(SIGPIPE, SIG_IGN);
  asio::io_context io(1);
  worker w(io, in_fd, out_fd);
  int code = 4;
  asio::co_spawn(io, w.run(), [&](std::exception_ptr e, int result) {
    code = e ? 4 : result;
    log_exception(*storm_log(), fmt::format("storm worker {}", ::getpid()), e);
    io.stop();
  });
  io.run();
  return code;
}

}  // namespace faultline::storm
