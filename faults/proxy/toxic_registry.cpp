#include "faults/proxy/toxic_registry.hpp"

#include "faults/proxy/bandwidth.hpp"
#include "faults/proxy/blackhole.hpp"
#include "faults/proxy/latency.hpp"
#include "faults/proxy/limit_data.hpp"
#include "faults/proxy/noop.hpp"
#include "faults/proxy/reset_peer.hpp"
#include "faults/proxy/slicer.hpp"
#include "faults/proxy/slow_close.hpp"
#include "faults/proxy/timeout.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace faultline::proxy {

void toxic_registry::add(entry e) {
  auto type = e.type;
  if (!entries_.emplace(type, std::move(e)).second) throw std::logic_error("toxic type '" + type + "' is registered twice");
}

const toxic_registry::entry* toxic_registry::find(std::string_view type) const {
  auto it = entries_.find(type);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> toxic_registry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

std::shared_ptr<const toxic_config> toxic_registry::merge(const toxic_config& current, const nlohmann::json& changes) const {
  const auto* e = find(current.type());
  if (!e) throw attribute_error(fmt::format("toxic type '{}' is not registered", current.type()));
  auto merged = nlohmann::json::parse(current.attributes().dump());
  if (changes.is_object())
    for (const auto& [key, value] : changes.items())
      if (!value.is_null()) merged[key] = value;
  return e->parse(merged);
}

std::int64_t whole_attribute(const nlohmann::json& attributes, const char* name, std::int64_t fallback, const char* unit) {
  if (!attributes.is_object()) return fallback;
  auto it = attributes.find(name);
  if (it == attributes.end() || it->is_null()) return fallback;
  auto bad = [&] {
    return attribute_error(fmt::format("attribute '{}' must be a whole number of {} (0 or more), got {}", name, unit, it->dump()));
  };
  if (it->is_number_unsigned()) {
    auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) throw bad();
    return static_cast<std::int64_t>(v);
  }
  if (it->is_number_integer()) {
    auto v = it->get<std::int64_t>();
    if (v < 0) throw bad();
    return v;
  }
  if (it->is_number_float()) {
    auto v = it->get<double>();
    if (v < 0 || v != std::floor(v) || v > 9.0e18) throw bad();
    return static_cast<std::int64_t>(v);
  }
  throw bad();
}

namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

template <typename T, typename... Args>
std::shared_ptr<const toxic_config> make(Args&&... args) {
  return std::make_shared<const T>(std::forward<Args>(args)...);
}

}  // namespace

void register_builtin_toxics(toxic_registry& registry) {
  registry.add({"latency", "delay data by latency +/- jitter (ms)", "", [](const nlohmann::json& a) {
                  return make<latency_toxic>(milliseconds(whole_attribute(a, "latency", 0, "milliseconds")),
                                             milliseconds(whole_attribute(a, "jitter", 0, "milliseconds")));
                }});
  registry.add({"bandwidth", "limit the rate to `rate` KB/s (0 passes nothing)", "", [](const nlohmann::json& a) {
                  return make<bandwidth_toxic>(static_cast<double>(whole_attribute(a, "rate", 0, "KB/s")) * 1000.0);
                }});
  registry.add({"slow_close", "delay the close by `delay` ms", "", [](const nlohmann::json& a) {
                  return make<slow_close_toxic>(milliseconds(whole_attribute(a, "delay", 0, "milliseconds")));
                }});
  registry.add({"timeout", "drop data, close after `timeout` ms (0: never)", "", [](const nlohmann::json& a) {
                  return make<timeout_toxic>(milliseconds(whole_attribute(a, "timeout", 0, "milliseconds")));
                }});
  registry.add({"reset_peer", "reset (RST) the connection `timeout` ms after data arrives", "", [](const nlohmann::json& a) {
                  return make<reset_peer_toxic>(milliseconds(whole_attribute(a, "timeout", 0, "milliseconds")));
                }});
  registry.add({"slicer", "cut data into pieces of average_size +/- size_variation bytes, `delay` us apart", "",
                [](const nlohmann::json& a) {
                  auto average = whole_attribute(a, "average_size", 0, "bytes");
                  auto variation = whole_attribute(a, "size_variation", 0, "bytes");
                  if (average < 1) throw attribute_error("attribute 'average_size' must be at least 1 byte");
                  if (variation >= average)
                    throw attribute_error(fmt::format("attribute 'size_variation' ({}) must be smaller than 'average_size' ({})",
                                                      variation, average));
                  return make<slicer_toxic>(static_cast<std::size_t>(average), static_cast<std::size_t>(variation),
                                            microseconds(whole_attribute(a, "delay", 0, "microseconds")));
                }});
  registry.add({"limit_data", "close the connection after `bytes` bytes", "", [](const nlohmann::json& a) {
                  return make<limit_data_toxic>(static_cast<std::uint64_t>(whole_attribute(a, "bytes", 0, "bytes")));
                }});
  registry.add({"blackhole", "accept, forward nothing, never close", "", [](const nlohmann::json&) {
                  return make<blackhole_toxic>();
                }});
  registry.add({"noop", "pass everything untouched", "", [](const nlohmann::json&) { return make<noop_toxic>(); }});
  // faults/protocol registers its message-level toxics here.
}

}  // namespace faultline::proxy
