#pragma once
// The metric probe: scrapes a Prometheus text endpoint over HTTP (keep-alive) per check and
// records one series' value, e.g. a breaker-state gauge. ok when exactly one series matches.

#include "probes/http_client.hpp"
#include "probes/probe.hpp"
#include "probes/prometheus_text.hpp"

namespace faultline::probes {

struct metric_probe_config {
  http_url url;
  std::string request;
  series_selector series;
  std::chrono::nanoseconds timeout{};
  static metric_probe_config from(const params& p);  // throws param_error
};

class metric_probe : public probe {
public:
  metric_probe(std::shared_ptr<const metric_probe_config> config, boost::asio::any_io_executor executor)
      : config_(std::move(config)), connection_(std::move(executor), config_->url) {}
  boost::asio::awaitable<sample> check(clock::time_point intended) override;

private:
  std::shared_ptr<const metric_probe_config> config_;
  http_connection connection_;
};

}  // namespace faultline::probes
