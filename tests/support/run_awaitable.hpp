#pragma once
// Runs one coroutine to completion on a fresh io_context and returns its result (rethrowing its
// exception): for tests of asynchronous units.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <utility>

namespace faultline::test {

template <typename T>
T run_awaitable(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
  });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

// The same, given a function of the executor that makes the coroutine.
template <typename F>
auto run_with_executor(F&& make) {
  boost::asio::io_context io;
  return run_awaitable(io, std::invoke(std::forward<F>(make), io.get_executor()));
}

}  // namespace faultline::test
