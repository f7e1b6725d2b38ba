#pragma once
// Building probe parameters in tests as the loader would: defaults filled in.

#include "probes/probe.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

namespace faultline::test {

// The parameters of probe type `type` with its defaults, `every`/`timeout` and the given values.
inline params probe_params(const std::string& type, std::initializer_list<std::pair<std::string, param_value>> values,
                           std::chrono::nanoseconds timeout = std::chrono::seconds(2)) {
  probes::probe_registry registry;
  probes::register_builtin_probes(registry);
  const auto* t = registry.find(type);
  if (!t) throw std::logic_error("no probe type " + type);
  params p;
  for (const auto& spec : t->params)
    if (spec.default_value) p.set(spec.name, *spec.default_value);
  p.set("every", std::chrono::nanoseconds(std::chrono::seconds(1)));
  p.set("timeout", timeout);
  for (const auto& [k, v] : values) p.set(k, v);
  return p;
}

inline std::unique_ptr<probes::probe> make_probe(const std::string& type, const params& p, boost::asio::any_io_executor ex) {
  probes::probe_registry registry;
  probes::register_builtin_probes(registry);
  const auto* t = registry.find(type);
  t->validate(p);
  return t->create(p, std::move(ex));
}

}  // namespace faultline::test
