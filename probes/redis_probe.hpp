#pragma once
// The redis probe: one command per check (PING by default) over a kept connection, RESP parsed
// by hiredis's reader on bytes read asynchronously (nothing blocks the io_context). ok when the
// reply is not an error and matches `expect` if given; an integer or numeric reply is the value.

#include "core/address.hpp"
#include "core/tcp_connect.hpp"
#include "probes/probe.hpp"

#include <boost/beast/core/tcp_stream.hpp>

#include <optional>
#include <string>
#include <vector>

namespace faultline::probes {

struct redis_probe_config {
  faultline::address address;
  std::vector<std::string> command;  // split like redis-cli does
  std::string request;               // the command in RESP
  std::optional<std::string> expect;
  std::chrono::nanoseconds timeout{};
  static redis_probe_config from(const params& p);  // throws param_error
};

// Splits a command line as redis-cli does (quotes, escapes); throws std::invalid_argument.
std::vector<std::string> split_redis_command(std::string_view line);

class redis_probe : public probe {
public:
  redis_probe(std::shared_ptr<const redis_probe_config> config, boost::asio::any_io_executor executor)
      : config_(std::move(config)), stream_(std::move(executor)) {}
  boost::asio::awaitable<sample> check(clock::time_point intended) override;

private:
  void close();
  std::shared_ptr<const redis_probe_config> config_;
  boost::beast::tcp_stream stream_;
  bool connected_ = false;
};

}  // namespace faultline::probes
