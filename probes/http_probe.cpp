#include "probes/http_probe.hpp"

#include <nlohmann/json.hpp>

namespace faultline::probes {

http_probe_config http_probe_config::from(const params& p) {
  http_probe_config c;
  try {
    c.url = parse_http_url(p.text("url"));
  } catch (const std::invalid_argument& e) {
    throw param_error("url", e.what());
  }
  c.keep_alive = p.maybe<bool>("keep_alive").value_or(true);
  if (auto s = p.maybe<std::int64_t>("expect.status")) c.expect_status = static_cast<unsigned>(*s);
  c.body_contains = p.maybe<std::string>("expect.body_contains");
  if (auto v = p.maybe<std::string>("value")) {
    try {
      (void)nlohmann::json::json_pointer(*v);
    } catch (const nlohmann::json::exception&) {
      throw param_error("value", "'" + *v + "' is not a JSON pointer (write it like /breaker/state or /items/0/count)");
    }
    c.value_pointer = *v;
  }
  const auto headers = p.maybe<std::map<std::string, std::string>>("headers").value_or(std::map<std::string, std::string>{});
  c.request = serialize_http_request(c.url, p.maybe<std::string>("method").value_or("GET"), headers,
                                     p.maybe<std::string>("body").value_or(""), c.keep_alive);
  c.timeout = p.duration("timeout");
  return c;
}

std::optional<double> json_value_at(std::string_view body, const std::string& pointer) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  const nlohmann::json::json_pointer ptr(pointer);
  if (!doc.contains(ptr)) return std::nullopt;
  const auto& v = doc.at(ptr);
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  return std::nullopt;
}

boost::asio::awaitable<sample> http_probe::check(clock::time_point intended) {
  const auto started = clock::now();
  auto reply = co_await connection_.exchange(config_->request, started + config_->timeout, true);
  if (reply.failure) co_return finished(intended, started, *reply.failure);
  if (!config_->keep_alive) connection_.close();
  auto result = classify_status(reply.status, config_->expect_status);
  if (result == outcome::ok && config_->body_contains && reply.body.find(*config_->body_contains) == std::string::npos)
    result = outcome::unexpected_value;
  std::optional<double> value;
  if (config_->value_pointer) {
    value = json_value_at(reply.body, *config_->value_pointer);
    if (!value && result == outcome::ok) result = outcome::unexpected_value;
  }
  co_return finished(intended, started, result, value);
}

}  // namespace faultline::probes
