#pragma once
// The probe contract: a check run on an interval against the system under test, returning one
// sample per check. Probe types register by name in one probe_registry.

#include "core/params.hpp"
#include "probes/resource_quantity.hpp"
#include "probes/sample.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::probes {

class probe {
public:
  virtual ~probe() = default;
  // One check. `intended` is when the check was due; latency is measured from it. Never throws
  // for expected failures (they are outcomes) and never outlives the probe's timeout.
  virtual boost::asio::awaitable<sample> check(clock::time_point intended) = 0;
  // Resource probes (process, cgroup) measure several quantities per check: what the last check
  // measured, recorded by the runner as series "<probe>.<quantity>". Others measure none.
  virtual std::vector<reading> readings() const { return {}; }
};

using probe_factory =
    std::function<std::unique_ptr<probe>(const params&, boost::asio::any_io_executor)>;

struct probe_type {
  std::string name;
  std::string summary;  // one line for `faultline list`
  param_schema params;  // `every` and `timeout` are common to all probes and not listed here
  probe_factory create;
  // Checks the parsed parameters (a URL, a selector, a command) without connecting anywhere;
  // throws param_error naming the parameter. Optional.
  std::function<void(const faultline::params&)> validate;
  // What its checks measure besides the outcome (resource probes); empty for the others.
  std::span<const quantity> quantities;
  // Read for a value (a scrape, /proc, /sys): a check's latency is the cost of reading it, which
  // follows the machine's load, not the system under test; runs are not compared on it.
  bool latency_is_reading_cost = false;
};

class probe_registry {
public:
  // Throws std::logic_error when the name is taken.
  void add(probe_type type);
  const probe_type* find(std::string_view name) const;
  std::vector<std::string> names() const;
  const std::map<std::string, probe_type, std::less<>>& types() const { return types_; }

private:
  std::map<std::string, probe_type, std::less<>> types_;
};

// Parameters every probe takes.
const param_schema& common_probe_params();
// The schema of `load: { http: {...} }`.
const param_schema& http_load_params();

void register_builtin_probes(probe_registry& registry);

}  // namespace faultline::probes
