#pragma once
// The tcp probe: a TCP connect to host:port; ok when the connection is established in time.

#include "core/address.hpp"
#include "probes/probe.hpp"

namespace faultline::probes {

struct tcp_probe_config {
  faultline::address address;
  std::chrono::nanoseconds timeout{};
  static tcp_probe_config from(const params& p);  // throws param_error
};

class tcp_probe : public probe {
public:
  tcp_probe(std::shared_ptr<const tcp_probe_config> config, boost::asio::any_io_executor executor)
      : config_(std::move(config)), executor_(std::move(executor)) {}
  boost::asio::awaitable<sample> check(clock::time_point intended) override;

private:
  std::shared_ptr<const tcp_probe_config> config_;
  boost::asio::any_io_executor executor_;
};

}  // namespace faultline::probes
