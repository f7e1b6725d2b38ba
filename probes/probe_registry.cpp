#include "probes/probe.hpp"

#include <stdexcept>

namespace faultline::probes {

void probe_registry::add(probe_type type) {
  auto name = type.name;
  if (!types_.emplace(name, std::move(type)).second)
    throw std::logic_error("probe type '" + name + "' is registered twice");
}

const probe_type* probe_registry::find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> probe_registry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, type] : types_) out.push_back(name);
  return out;
}

}  // namespace faultline::probes

namespace faultline::probes {

const param_schema& common_probe_params() {
  using namespace std::chrono_literals;
  static const param_schema schema{
      {"every", param_kind::duration, "interval between checks", std::chrono::nanoseconds(1s), false, 1e7},
      {"timeout", param_kind::duration, "a check that takes longer is a timeout", std::chrono::nanoseconds(1s), false, 1e6},
  };
  return schema;
}

const param_schema& http_load_params() {
  using namespace std::chrono_literals;
  static const param_schema schema{
      {"url", param_kind::text, "http://host:port/path to request (with requests: the host and port they go to)"},
      {"method", param_kind::choice, "HTTP method", std::string("GET"), false, {}, {},
       {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}},
      {"headers", param_kind::text_map, "extra request headers"},
      {"body", param_kind::text, "request body"},
      {"timeout", param_kind::duration, "a request that takes longer is a timeout", std::chrono::nanoseconds(2s), false, 1e6},
      {"rate", param_kind::rate, "open model: constant arrival rate (e.g. 200/s)", {}, false, 0.001},
      {"users", param_kind::integer, "closed model: virtual users, each waiting for its response", {}, false, 1},
      {"think_time", param_kind::duration, "closed model: pause between a user's requests", std::chrono::nanoseconds(0), false},
      {"stages", param_kind::text_list, "load shape, e.g. [\"100/s for 10s\", \"ramp to 1000/s over 30s\"]"},
      {"connections", param_kind::integer, "connection pool size (0: sized automatically)", std::int64_t(0), false, 0, 100000},
      {"max_requests", param_kind::integer, "stop after this many requests (0: no limit)", std::int64_t(0), false, 0},
      {"seed", param_kind::integer, "seeds the random ${...} values: the same seed draws the same values", std::int64_t(1), false},
      {"expect.status", param_kind::integer, "status counted as ok (default: any 2xx or 3xx)", {}, false, 100, 599},
  };
  return schema;
}

}  // namespace faultline::probes
