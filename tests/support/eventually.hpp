#pragma once
// Waiting in tests for something to happen, without fixed sleeps: poll a condition until it holds
// or a generous limit passes (a busy 2-core machine is slow, a broken one must not hang ctest).
// A blocking form for test threads and an awaitable one for tests that run in a coroutine (it
// lets the io_context go on while it waits); both follow one polling rule.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>

namespace faultline::test {

inline constexpr std::chrono::milliseconds eventually_limit{30'000};
inline constexpr std::chrono::milliseconds eventually_poll{10};

// The polling rule: is it over (the condition holds: true; the time is up: false), or wait one
// more poll interval (nullopt)? The condition is checked once more when the time is up.
class poll_until {
public:
  explicit poll_until(std::chrono::milliseconds limit) : deadline_(std::chrono::steady_clock::now() + limit) {}
  std::optional<bool> check(const std::function<bool()>& condition) const;

private:
  std::chrono::steady_clock::time_point deadline_;
};

// Blocks the calling thread until `condition` holds (true) or `limit` passes (false).
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = eventually_limit);

// The same from a coroutine: waits on a timer between checks, so the executor keeps running.
boost::asio::awaitable<bool> eventually_async(const std::function<bool()>& condition,
                                              std::chrono::milliseconds limit = eventually_limit);

}  // namespace faultline::test
