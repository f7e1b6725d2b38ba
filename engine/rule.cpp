#include "engine/rule.hpp"

#include "core/units.hpp"
#include "probes/resource_quantity.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cmath>
#include <utility>

namespace faultline::engine {
namespace {

struct statistic_name {
  std::string_view name;
  statistic stat;
};

constexpr std::array<statistic_name, 19> statistic_names{{
    {"p50", statistic::p50},         {"p75", statistic::p75},
    {"p90", statistic::p90},         {"p95", statistic::p95},
    {"p99", statistic::p99},         {"p999", statistic::p999},
    {"p99.9", statistic::p999},      {"max", statistic::max},
    {"min", statistic::min},         {"mean", statistic::mean},
    {"error_rate", statistic::error_rate}, {"availability", statistic::availability},
    {"rps", statistic::rps},         {"throughput", statistic::rps},
    {"count", statistic::count},     {"errors", statistic::errors},
    {"value", statistic::value},     {"ok", statistic::ok},
    {"median", statistic::p50},
}};

struct comparator_name {
  std::string_view text;
  comparator cmp;
};

// Longest first, so "<=" is not read as "<".
constexpr std::array<comparator_name, 7> comparator_names{{
    {"<=", comparator::less_equal}, {">=", comparator::greater_equal},
    {"==", comparator::equal},      {"!=", comparator::not_equal},
    {"<", comparator::less},        {">", comparator::greater},
    {"=", comparator::equal},
}};

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// A cursor over the rule text that remembers columns for errors.
class scanner {
public:
  explicit scanner(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  bool done() {
    skip_space();
    return pos_ >= text_.size();
  }
  std::size_t pos() const { return pos_; }
  std::string_view rest() const { return text_.substr(pos_); }
  bool take(std::string_view word) {
    skip_space();
    if (text_.substr(pos_).starts_with(word)) {
      pos_ += word.size();
      return true;
    }
    return false;
  }
  bool take_word(std::string_view word) {
    skip_space();
    auto rest = text_.substr(pos_);
    if (rest.starts_with(word) && (rest.size() == word.size() || !is_name_char(rest[word.size()]))) {
      pos_ += word.size();
      return true;
    }
    return false;
  }
  // A series name may have dotted parts ("load.websocket.sessions"): everything before the last
  // dot that starts a statistic ("load.websocket.p99.9" is load.websocket's p99.9). When no part
  // is a statistic, the first part is the series (and the rest is reported as the statistic).
  std::string_view series_name() {
    skip_space();
    const auto start = pos_;
    auto end = pos_;
    while (end < text_.size() && (is_name_char(text_[end]) || text_[end] == '.')) ++end;
    const auto token = text_.substr(start, end - start);
    std::size_t cut = token.find('.');
    for (auto dot = cut; dot != std::string_view::npos; dot = token.find('.', dot + 1)) {
      if (statistic_from_string(token.substr(dot + 1))) {
        cut = dot;
        break;
      }
    }
    pos_ = start + std::min(cut, token.size());
    return text_.substr(start, pos_ - start);
  }
  // A statistic name may contain one dot ("p99.9").
  std::string_view statistic_token() {
    skip_space();
    auto start = pos_;
    while (pos_ < text_.size() && (is_name_char(text_[pos_]) || text_[pos_] == '.')) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  // Everything up to " for " or the end: the threshold.
  std::string_view value() {
    skip_space();
    auto start = pos_;
    auto rest = text_.substr(pos_);
    auto cut = rest.find(" for ");
    pos_ = cut == std::string_view::npos ? text_.size() : pos_ + cut;
    auto v = text_.substr(start, pos_ - start);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return v;
  }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

std::string known_statistics() {
  return "p50, p75, p90, p95, p99, p999, max, min, mean, error_rate, availability, rps, count, "
         "errors, value, ok";
}

double parse_threshold(stat_unit unit, std::string_view text) {
  switch (unit) {
    case stat_unit::latency:
      return std::chrono::duration<double>(parse_duration(text)).count();
    case stat_unit::fraction:
      return parse_fraction(text);
    case stat_unit::per_second:
      return text.find('/') != std::string_view::npos ? parse_rate(text) : parse_number(text);
    case stat_unit::count:
      return static_cast<double>(parse_integer(text));
    case stat_unit::number:
      return parse_number(text);
    case stat_unit::boolean:
      if (text == "true") return 1;
      if (text == "false") return 0;
      throw unit_error(fmt::format("'{}' is not true or false", text));
    case stat_unit::bytes:
      return static_cast<double>(parse_size(text));
    case stat_unit::share:
      return parse_share(text);
  }
  return 0;
}

std::string example_for(stat_unit unit) {
  switch (unit) {
    case stat_unit::latency: return "a duration such as 200ms";
    case stat_unit::fraction: return "a percentage such as 1%";
    case stat_unit::per_second: return "a rate such as 100/s";
    case stat_unit::count: return "a whole number";
    case stat_unit::number: return "a number";
    case stat_unit::boolean: return "true or false";
    case stat_unit::bytes: return "a size such as 500MB";
    case stat_unit::share: return "a share such as 150% (1.5 cores)";
  }
  return "a value";
}

stat_unit unit_of(probes::quantity_unit u) {
  switch (u) {
    case probes::quantity_unit::bytes: return stat_unit::bytes;
    case probes::quantity_unit::seconds: return stat_unit::latency;
    case probes::quantity_unit::share: return stat_unit::share;
    case probes::quantity_unit::count: return stat_unit::number;
  }
  return stat_unit::number;
}

}  // namespace

stat_unit unit_of(statistic s) {
  switch (s) {
    case statistic::p50: case statistic::p75: case statistic::p90: case statistic::p95:
    case statistic::p99: case statistic::p999: case statistic::max: case statistic::min:
    case statistic::mean:
      return stat_unit::latency;
    case statistic::error_rate: case statistic::availability:
      return stat_unit::fraction;
    case statistic::rps:
      return stat_unit::per_second;
    case statistic::count: case statistic::errors:
      return stat_unit::count;
    case statistic::value:
      return stat_unit::number;
    case statistic::ok:
      return stat_unit::boolean;
  }
  return stat_unit::number;
}

stat_unit unit_of(const rule& r) { return r.quantity_unit.value_or(unit_of(r.stat)); }

const char* to_string(statistic s) {
  for (const auto& entry : statistic_names)
    if (entry.stat == s) return entry.name.data();
  return "?";
}

const char* to_string(comparator c) {
  for (const auto& entry : comparator_names)
    if (entry.cmp == c) return entry.text.data();
  return "?";
}

std::optional<statistic> statistic_from_string(std::string_view name) {
  for (const auto& entry : statistic_names)
    if (entry.name == name) return entry.stat;
  return std::nullopt;
}

bool compare(double measured, comparator c, double threshold) {
  switch (c) {
    case comparator::less: return measured < threshold;
    case comparator::less_equal: return measured <= threshold;
    case comparator::greater: return measured > threshold;
    case comparator::greater_equal: return measured >= threshold;
    case comparator::equal: return std::abs(measured - threshold) <= 1e-9 * std::max(1.0, std::abs(threshold));
    case comparator::not_equal: return !compare(measured, comparator::equal, threshold);
  }
  return false;
}

rule parse_rule(std::string_view text) {
  rule r;
  r.text = std::string(text);
  scanner in(text);
  if (in.done()) throw rule_error(0, "the rule is empty; write e.g. \"load.p95 < 200ms\"");
  r.negated = in.take_word("not") || in.take("!");

  auto series_at = (in.skip_space(), in.pos());
  auto series = in.series_name();
  if (series.empty())
    throw rule_error(series_at, "a rule starts with a series and a statistic, e.g. \"load.p95 < 200ms\"");
  r.series = std::string(series);
  if (!in.take(".")) {
    throw rule_error(in.pos(), fmt::format("'{}' needs a statistic after a dot, e.g. {}.p95 or {}.ok",
                                           series, series, series));
  }
  auto stat_at = in.pos();
  auto stat_text = in.statistic_token();
  auto stat = statistic_from_string(stat_text);
  if (const auto* q = stat ? nullptr : probes::find_quantity(stat_text)) {
    r.series = probes::quantity_series_name(series, *q);
    r.quantity_unit = unit_of(q->unit);
    stat = statistic::value;
  }
  if (auto dot = stat_text.find('.'); !stat && dot != std::string_view::npos && dot > 0) {
    // "load.checkout.p95": a part of the series (a named request of the load), then its statistic.
    auto part_stat = statistic_from_string(stat_text.substr(dot + 1));
    if (!part_stat)
      throw rule_error(stat_at + dot + 1, fmt::format("unknown statistic '{}' (known: {})", stat_text.substr(dot + 1),
                                                      known_statistics()));
    r.series += "." + std::string(stat_text.substr(0, dot));
    stat_text = stat_text.substr(dot + 1);
    stat = part_stat;
  }
  if (!stat)
    throw rule_error(stat_at, fmt::format("unknown statistic '{}' (known: {}; and a resource probe's quantities, e.g. rss, cpu)",
                                          stat_text, known_statistics()));
  r.stat = *stat;
  const auto unit = unit_of(r);

  if (in.done() || in.rest().starts_with("for ")) {
    if (r.stat != statistic::ok)
      throw rule_error(in.pos(), fmt::format("'{}.{}' needs a comparison, e.g. {}.{} < {}", series,
                                             stat_text, series, stat_text, example_for(unit)));
    r.cmp = comparator::equal;
    r.threshold = 1;
  } else {
    if (r.negated)
      throw rule_error(0, "'not' applies only to a rule without a comparison, e.g. \"not health.ok\"");
    auto cmp_at = in.pos();
    bool found = false;
    for (const auto& entry : comparator_names) {
      if (in.take(entry.text)) {
        r.cmp = entry.cmp;
        found = true;
        break;
      }
    }
    if (!found)
      throw rule_error(cmp_at, fmt::format("expected a comparison (<, <=, >, >=, ==, !=) after '{}.{}'",
                                           series, stat_text));
    auto value_at = (in.skip_space(), in.pos());
    auto value = in.value();
    if (value.empty())
      throw rule_error(value_at, fmt::format("missing a value after '{}'; write {}", to_string(r.cmp),
                                             example_for(unit)));
    try {
      r.threshold = parse_threshold(unit, value);
    } catch (const unit_error&) {
      throw rule_error(value_at, fmt::format("{}.{} is compared with {}, not '{}'", series, stat_text,
                                             example_for(unit), value));
    }
  }

  if (!in.done()) {
    auto for_at = in.pos();
    if (!in.take_word("for"))
      throw rule_error(for_at, fmt::format("unexpected '{}' after the rule; only \"for <duration>\" may follow",
                                           in.rest()));
    auto d_at = (in.skip_space(), in.pos());
    try {
      r.sustained = parse_duration(in.rest());
    } catch (const unit_error& e) {
      throw rule_error(d_at, e.what());
    }
  }
  return r;
}

std::string format_threshold(const rule& r) {
  switch (unit_of(r)) {
    case stat_unit::latency:
      return format_duration(std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(r.threshold * 1e9))));
    case stat_unit::fraction:
      return format_fraction(r.threshold);
    case stat_unit::per_second:
      return format_rate(r.threshold);
    case stat_unit::boolean:
      return r.threshold != 0 ? "true" : "false";
    case stat_unit::count:
    case stat_unit::number:
      return fmt::format("{:g}", r.threshold);
    case stat_unit::bytes:
      return format_size(static_cast<std::int64_t>(std::llround(r.threshold)));
    case stat_unit::share:
      return format_fraction(r.threshold);
  }
  return {};
}

std::string format_measured(stat_unit unit, double v) {
  switch (unit) {
    case stat_unit::latency: return format_seconds(v);
    case stat_unit::fraction: return fmt::format("{:.3g}%", v * 100);
    case stat_unit::per_second: return fmt::format("{:.1f}/s", v);
    case stat_unit::boolean: return v != 0 ? "true" : "false";
    case stat_unit::count:
    case stat_unit::number: return fmt::format("{:g}", v);
    case stat_unit::bytes: return v >= 1048576 ? format_number(v / 1048576, 1) + "MiB" : format_number(v / 1024, 1) + "KiB";
    case stat_unit::share: return format_number(v * 100, 1) + "%";
  }
  return fmt::format("{:g}", v);
}

}  // namespace faultline::engine
