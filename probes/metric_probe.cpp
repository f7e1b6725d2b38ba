#include "probes/metric_probe.hpp"

#include "core/log.hpp"

namespace faultline::probes {

metric_probe_config metric_probe_config::from(const params& p) {
  metric_probe_config c;
  try {
    c.url = parse_http_url(p.text("url"));
  } catch (const std::invalid_argument& e) {
    throw param_error("url", e.what());
  }
  try {
    c.series = parse_series_selector(p.text("series"));
  } catch (const std::invalid_argument& e) {
    throw param_error("series", e.what());
  }
  c.request = serialize_http_request(c.url, "GET", {{"Accept", "text/plain;version=0.0.4"}}, "", true);
  c.timeout = p.duration("timeout");
  return c;
}

boost::asio::awaitable<sample> metric_probe::check(clock::time_point intended) {
  const auto started = clock::now();
  auto reply = co_await connection_.exchange(config_->request, started + config_->timeout, true);
  if (reply.failure) co_return finished(intended, started, *reply.failure);
  const auto status = classify_status(reply.status, std::nullopt);
  if (status != outcome::ok) co_return finished(intended, started, status);
  const auto found = find_series(reply.body, config_->series);
  if (found.matches != 1) {
    // Not found, or the selector is ambiguous: the check fails; say why (once in a while).
    static std::atomic<std::uint64_t> said{0};
    if (said++ % 100 == 0)
      logger("probes")->warn("metric probe: {} series match {} at {}", found.matches, config_->series.to_string(), config_->url.target);
    co_return finished(intended, started, outcome::unexpected_value, found.matches > 1 ? std::nullopt : found.value);
  }
  co_return finished(intended, started, outcome::ok, found.value);
}

}  // namespace faultline::probes
