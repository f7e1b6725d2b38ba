#pragma once
// Runs a coroutine to completion on a fresh io_context for a test, rethrowing its exception and
// failing when it does not finish within a generous bound (a hang must not hang ctest).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <stdexcept>

namespace faultline::test {

inline void run_async(const std::function<boost::asio::awaitable<void>(boost::asio::io_context&)>& body,
                      std::chrono::seconds limit = std::chrono::seconds(120)) {
  boost::asio::io_context io(1);
  std::exception_ptr failure;
  bool done = false;
  boost::asio::co_spawn(io, body(io), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  io.run_for(limit);
  if (failure) std::rethrow_exception(failure);
  if (!done) throw std::runtime_error("the test's coroutine did not finish in time");
}

// Sleeps in a coroutine.
boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d);

}  // namespace faultline::test
