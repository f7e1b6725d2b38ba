#pragma once
// Game-day mode: the operator ends manual faults or aborts the run with a key.
//   e  end the faults that wait for the operator (until: manual)
//   a  abort: revert everything now

#include "engine/runner/event.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>

namespace faultline::engine {

struct operator_keys {
  event* manual_end = nullptr;
  event* finished = nullptr;  // stop reading
  std::function<void(const std::string& reason)> abort;
  std::function<void(const std::string& line)> log;
};

// Reads keys from standard input until `finished`; a terminal is put in raw mode and restored.
boost::asio::awaitable<void> read_operator_keys(operator_keys keys);

}  // namespace faultline::engine
