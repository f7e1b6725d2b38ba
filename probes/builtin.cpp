#include "probes/cgroup_probe.hpp"
#include "probes/command_probe.hpp"
#include "probes/http_probe.hpp"
#include "probes/metric_probe.hpp"
#include "probes/postgres_probe.hpp"
#include "probes/process_probe.hpp"
#include "probes/probe.hpp"
#include "probes/redis_probe.hpp"
#include "probes/tcp_probe.hpp"

namespace faultline::probes {
namespace {

param_spec address_param(const char* help) { return {"address", param_kind::host_port, help, {}, true}; }

// A factory that parses its config once and shares it, read-only, with the probe; and the same
// parsing as the type's validate function.
template <typename Probe, typename Config>
void attach(probe_type& type) {
  type.create = [](const params& p, boost::asio::any_io_executor executor) -> std::unique_ptr<probe> {
    return std::make_unique<Probe>(std::make_shared<const Config>(Config::from(p)), std::move(executor));
  };
  type.validate = [](const params& p) { (void)Config::from(p); };
}

template <typename Probe, typename Config>
probe_type with_factory(probe_type type) {
  attach<Probe, Config>(type);
  return type;
}

}  // namespace

// Every probe type faultline ships with, registered in one place.
void register_builtin_probes(probe_registry& registry) {
  registry.add(with_factory<http_probe, http_probe_config>({"http", "an HTTP request; ok when the status (and body) match", {
      {"url", param_kind::text, "http://host:port/path", {}, true},
      {"method", param_kind::choice, "HTTP method", std::string("GET"), false, {}, {}, {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}},
      {"headers", param_kind::text_map, "extra request headers"},
      {"body", param_kind::text, "request body"},
      {"keep_alive", param_kind::flag, "reuse one connection between checks", true},
      {"expect.status", param_kind::integer, "status counted as ok (default: any 2xx or 3xx)", {}, false, 100, 599},
      {"expect.body_contains", param_kind::text, "text the body must contain"},
      {"value", param_kind::text, "JSON pointer to a number in the body, recorded as the sample value (e.g. /breaker/state)"},
  }, nullptr}));
  registry.add(with_factory<tcp_probe, tcp_probe_config>({"tcp", "a TCP connect; ok when the connection is established", {
      address_param("host:port to connect to"),
  }, nullptr}));
  registry.add(with_factory<redis_probe, redis_probe_config>({"redis", "a Redis command (PING by default); ok when the reply matches", {
      address_param("Redis host:port"),
      {"command", param_kind::text, "command to send", std::string("PING")},
      {"expect", param_kind::text, "expected reply (default: any non-error reply)"},
  }, nullptr}));
  registry.add(with_factory<postgres_probe, postgres_probe_config>({"postgres", "a PostgreSQL query; ok when it succeeds (and returns the expected value)", {
      address_param("PostgreSQL host:port"),
      {"user", param_kind::text, "user name", std::string("postgres")},
      {"password", param_kind::text, "password"},
      {"database", param_kind::text, "database name", std::string("postgres")},
      {"query", param_kind::text, "query to run", std::string("SELECT 1")},
      {"expect", param_kind::text, "expected value of the first column of the first row"},
  }, nullptr}));
  registry.add(with_factory<command_probe, command_probe_config>({"command", "a shell command; ok when it exits with the expected code", {
      {"run", param_kind::text, "command line, run with /bin/sh -c", {}, true},
      {"expect.exit_code", param_kind::integer, "exit code counted as ok", std::int64_t(0), false, 0, 255},
      {"value", param_kind::flag, "record the first number on stdout as the sample value", false},
  }, nullptr}));
  registry.add(with_factory<metric_probe, metric_probe_config>({"metric", "one series scraped from a Prometheus text endpoint, recorded as the value", {
      {"url", param_kind::text, "http://host:port/metrics", {}, true},
      {"series", param_kind::text, "series name with optional labels: shop_breaker_state{dependency=\"postgres\"}", {}, true},
  }, nullptr, nullptr, {}, true}));
  registry.add(with_factory<process_probe, process_probe_config>({"process", "a process's CPU, memory, descriptors, threads and TCP connections, from /proc", {
      {"target", param_kind::text, "a PID (4242), a pid file (/run/shop.pid) or an exact process name, resolved once at start", {}, true},
  }, nullptr, nullptr, process_quantities(), true}));
  registry.add(with_factory<cgroup_probe, cgroup_probe_config>({"cgroup", "a cgroup v2's CPU, memory, memory events and process count", {
      {"path", param_kind::text, "the cgroup's directory, absolute or under the cgroup v2 mount (system.slice/shop.service)", {}, true},
  }, nullptr, nullptr, cgroup_quantities(), true}));
}

}  // namespace faultline::probes
