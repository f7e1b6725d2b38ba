#pragma once
// The Toxiproxy 2.x control API over a proxy_set, apart from HTTP transport: routes, JSON shapes,
// status codes and Toxiproxy's error messages. The daemon's HTTP server (api_server) feeds it
// requests; tests can call handle() directly.
//
// Differences from Toxiproxy, all additive: proxies and populate entries accept "toxics" (an array
// of toxic objects applied at creation) and "protocol"; toxicity and attributes are validated
// (400 instead of silent misbehaviour); errors come with Content-Type application/json; an
// optional bearer token; GET /metrics is always on.

#include "core/prometheus.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/toxic_registry.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace faultline::proxy {

struct api_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as on the request line
  std::string body;
  std::string user_agent;
  std::string authorization;
};

struct api_response {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// An API error as Toxiproxy reports it: {"error": message, "status": status}.
struct api_error {
  unsigned status;
  std::string message;
};

// The response to an api_error: Toxiproxy's JSON shape and a newline.
api_response error_response(const api_error& e);

class control_api {
public:
  struct options {
    std::string token;    // when set, every request needs "Authorization: Bearer <token>"
    std::string version;  // GET /version
  };

  control_api(proxy_set& proxies, std::shared_ptr<const toxic_registry> toxics, options o);

  api_response handle(const api_request& request);

  // Toxiproxy's populate (POST /populate, and `--config`): creates the listed proxies, replacing
  // those whose listen or upstream differ and leaving equal ones alone. All or nothing: on an
  // error, proxies created or replaced by this call are put back. Throws api_error.
  std::vector<proxy_info> populate(const nlohmann::json& list);

  // JSON shapes of Toxiproxy's responses.
  static nlohmann::ordered_json toxic_json(const installed_toxic& t);
  static nlohmann::ordered_json proxy_json(const proxy_info& p);

private:
  api_response route(const api_request& request);
  installed_toxic parse_toxic(const nlohmann::json& body) const;
  nlohmann::json parse_body(const std::string& body) const;
  static void refuse_tls_change(const nlohmann::json& body, const proxy_info& current);

  proxy_set& proxies_;
  std::shared_ptr<const toxic_registry> toxics_;
  options options_;
};

// Every proxy's and toxic's counters as Prometheus families (docs/metrics.md lists the names); the
// daemon's GET /metrics is their text, a run's /metrics appends them to its own.
prometheus::exposition proxy_metrics(const proxy_set& proxies);
std::string render_metrics(const proxy_set& proxies);

}  // namespace faultline::proxy
