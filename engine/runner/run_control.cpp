#include "engine/runner/run_control.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <csignal>

namespace faultline::engine {

namespace asio = boost::asio;

run_control::run_control(asio::any_io_executor executor, std::shared_ptr<faultline::clock> time, log_function log)
    : executor_(executor),
      time_(std::move(time)),
      log_(std::move(log)),
      abort_(executor),
      manual_end_(executor),
      finished_(executor) {}

void run_control::request_abort(const std::string& reason) {
  if (abort_.is_set()) return;
  stop_.aborted = true;
  stop_.abort_reason = reason;
  log(fmt::format("ABORT: {}; reverting every fault now", reason));
  abort_.set();
}

void run_control::fail_run(const std::string& why, bool capability) {
  if (stop_.error.empty()) {
    stop_.error = why;
    stop_.error_exit = capability ? 2 : 4;
  }
  if (!abort_.is_set()) {
    log(fmt::format("stopping the run: {}", why));
    abort_.set();
  }
}

void run_control::on_signal(int signal) {
  if (abort_.is_set()) {
    log("rollback in progress; faultline exits when every fault is reverted");
    return;
  }
  request_abort(signal == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
}

asio::awaitable<void> run_control::watch_signals(asio::signal_set& signals) {
  for (;;) {
    auto [ec, signal] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    on_signal(signal);
  }
}

}  // namespace faultline::engine
