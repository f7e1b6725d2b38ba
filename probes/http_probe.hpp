#pragma once
// The http probe: one HTTP/1.1 request per check (keep-alive by default); ok when the status
// (and body text) match. Optionally records a number from the JSON body (a JSON pointer).

#include "probes/http_client.hpp"
#include "probes/probe.hpp"

#include <optional>
#include <string>

namespace faultline::probes {

struct http_probe_config {
  http_url url;
  std::string request;  // serialised once
  bool keep_alive = true;
  std::optional<unsigned> expect_status;
  std::optional<std::string> body_contains;
  std::optional<std::string> value_pointer;  // JSON pointer, e.g. /breaker/state
  std::chrono::nanoseconds timeout{};
  static http_probe_config from(const params& p);  // throws param_error
};

// The number at `pointer` in a JSON text (true/false count as 1/0); nullopt when the body is not
// JSON or holds no number there.
std::optional<double> json_value_at(std::string_view body, const std::string& pointer);

class http_probe : public probe {
public:
  http_probe(std::shared_ptr<const http_probe_config> config, boost::asio::any_io_executor executor)
      : config_(std::move(config)), connection_(std::move(executor), config_->url) {}
  boost::asio::awaitable<sample> check(clock::time_point intended) override;

private:
  std::shared_ptr<const http_probe_config> config_;
  http_connection connection_;
};

}  // namespace faultline::probes
