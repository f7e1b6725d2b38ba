#include "core/prometheus.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace faultline::prometheus {
namespace {

// The bounds in whole microseconds, the unit of the histogram's slots.
constexpr std::array<std::int64_t, latency_bounds.size()> bounds_us = [] {
  std::array<std::int64_t, latency_bounds.size()> out{};
  for (std::size_t i = 0; i < latency_bounds.size(); ++i) out[i] = static_cast<std::int64_t>(latency_bounds[i] * 1e6 + 0.5);
  return out;
}();

void write_labels(std::string& out, const labels& l, const label* extra) {
  if (l.empty() && !extra) return;
  out += '{';
  bool first = true;
  auto one = [&](const label& x) {
    if (!first) out += ',';
    first = false;
    out += x.name;
    out += "=\"";
    out += escape_label_value(x.value);
    out += '"';
  };
  for (const auto& x : l) one(x);
  if (extra) one(*extra);
  out += '}';
}

}  // namespace

const char* to_string(metric_type t) {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

void latency_buckets::add(const compact_histogram& h) {
  for (const auto& [index, n] : h.slots()) {
    const auto lowest = histogram_layout::lowest_of(index);
    for (std::size_t b = 0; b < bounds_us.size(); ++b)
      if (lowest <= bounds_us[b]) at_or_below[b] += n;
  }
  count += h.count();
  sum_seconds += static_cast<double>(h.totals().sum_ns) / 1e9;
}

void latency_buckets::add(const latency_buckets& other) {
  for (std::size_t b = 0; b < at_or_below.size(); ++b) at_or_below[b] += other.at_or_below[b];
  count += other.count;
  sum_seconds += other.sum_seconds;
}

family::family(std::string name, metric_type type, std::string help)
    : name_(std::move(name)), type_(type), help_(std::move(help)) {
  if (!is_metric_name(name_)) throw std::logic_error("'" + name_ + "' is not a Prometheus metric name");
}

void family::add(labels l, double value) {
  if (type_ == metric_type::histogram) throw std::logic_error(name_ + " is a histogram: add buckets, not a value");
  samples_.push_back({"", std::move(l), value});
}

void family::add(labels l, const latency_buckets& h) {
  if (type_ != metric_type::histogram) throw std::logic_error(name_ + " is not a histogram");
  for (std::size_t b = 0; b < latency_bounds.size(); ++b) {
    auto with_le = l;
    with_le.push_back({"le", format_value(latency_bounds[b])});
    samples_.push_back({"_bucket", std::move(with_le), static_cast<double>(h.at_or_below[b])});
  }
  auto inf = l;
  inf.push_back({"le", "+Inf"});
  samples_.push_back({"_bucket", std::move(inf), static_cast<double>(h.count)});
  samples_.push_back({"_sum", l, h.sum_seconds});
  samples_.push_back({"_count", std::move(l), static_cast<double>(h.count)});
}

void family::write(std::string& out) const {
  if (samples_.empty()) return;
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, escape_help(help_), name_, to_string(type_));
  for (const auto& s : samples_) {
    out += name_;
    out += s.suffix;
    write_labels(out, s.l, nullptr);
    out += ' ';
    out += format_value(s.value);
    out += '\n';
  }
}

family& exposition::add(const std::string& name, metric_type type, const std::string& help) {
  for (auto& f : families_) {
    if (f.name() != name) continue;
    if (f.type() != type)
      throw std::logic_error(fmt::format("metric {} is a {} and cannot also be a {}", name, to_string(f.type()), to_string(type)));
    return f;
  }
  return families_.emplace_back(name, type, help);
}

const family* exposition::find(std::string_view name) const {
  for (const auto& f : families_)
    if (f.name() == name) return &f;
  return nullptr;
}

void exposition::merge(const exposition& other) {
  for (const auto& f : other.families_) {
    auto& mine = add(f.name(), f.type(), f.help());
    if (&mine == &f) continue;
    mine.samples_.insert(mine.samples_.end(), f.samples_.begin(), f.samples_.end());
  }
}

std::string exposition::text() const {
  std::string out;
  for (const auto& f : families_) f.write(out);
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);
}

bool is_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool is_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace faultline::prometheus
