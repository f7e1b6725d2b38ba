#include "probes/probe_runner.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

namespace faultline::probes {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

probe_runner::probe_runner(asio::any_io_executor executor, std::unique_ptr<probe> p, std::chrono::nanoseconds every,
                           std::chrono::nanoseconds timeout, timeline::recorder series)
    : executor_(std::move(executor)), probe_(std::move(p)), every_(every), timeout_(timeout), series_(series) {
  if (every_.count() <= 0) throw std::invalid_argument("probe_runner: the interval must be positive");
}

probe_runner::~probe_runner() = default;

void probe_runner::start(clock::time_point first) {
  done_ = false;
  asio::co_spawn(executor_, run(first),
                 asio::bind_cancellation_slot(stop_signal_.slot(), [this](std::exception_ptr e) {
                   log_exception(*logger("probes"), "probe runner stopped by an error", e);
                   done_ = true;
                 }));
}

void probe_runner::stop() {
  stopping_ = true;
  // Cancellation signals are not thread-safe: emit on the runner's executor.
  asio::dispatch(executor_, [this] { stop_signal_.emit(asio::cancellation_type::terminal); });
}

probe_runner_stats probe_runner::stats() const { return {abandoned_, skipped_, checks_}; }

asio::awaitable<void> probe_runner::run(clock::time_point first, clock::time_point until) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  auto state = co_await asio::this_coro::cancellation_state;
  asio::steady_timer timer(executor_);
  std::int64_t slot = 0;
  for (;;) {
    const auto intended = first + every_ * slot;
    if (intended >= until || stopping_ || state.cancelled() != asio::cancellation_type::none) break;
    timer.expires_at(intended);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec || stopping_ || state.cancelled() != asio::cancellation_type::none) break;

    asio::steady_timer backstop(executor_, clock::now() + timeout_ + grace);
    auto result = co_await (probe_->check(intended) || backstop.async_wait(use_tuple));
    if (stopping_ || state.cancelled() != asio::cancellation_type::none) break;  // cut short by stop(): not a sample
    ++checks_;
    if (result.index() == 0) {
      series_.record(std::get<0>(result));
    } else {
      ++abandoned_;
      series_.record(finished(intended, intended, outcome::timeout));
    }
    // The next slot is the one after this, or the latest already due when this check overran.
    const auto now = clock::now();
    std::int64_t next = slot + 1;
    if (now > first + every_ * next) {
      const std::int64_t due = (now - first) / every_;
      skipped_ += static_cast<std::uint64_t>(due - next);
      next = due;
    }
    slot = next;
  }
  co_return;
}

}  // namespace faultline::probes
