#include "engine/runner/levels.hpp"

#include "core/log.hpp"
#include "core/units.hpp"
#include "engine/analysis/load_tests.hpp"
#include "engine/runner/observation.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace faultline::engine {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using std::chrono::nanoseconds;

double seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

std::string load_text(const probes::load_stage& s) {
  if (s.kind == probes::load_stage::model::closed) return fmt::format("{} users", s.users);
  return format_rate(s.rate_from);
}

}  // namespace

bool span_result::held() const {
  return std::all_of(rules.begin(), rules.end(), [](const auto& r) { return r.held; });
}

std::string span_result::first_broken() const {
  for (const auto& r : rules)
    if (!r.held) return fmt::format("\"{}\" measured {}", r.rule, r.measured);
  return {};
}

span_result judge_live_span(const probes::timeline& t, const std::vector<rule>& rules, double start, double end) {
  span_result out;
  const reports::phase_span span{"span", start, end};
  const auto stats = phase_stats(t, {span});
  const double width = seconds(t.options().window);
  const auto windows = static_cast<std::int64_t>(std::ceil(end / width - 1e-9));
  series_windows by_series;
  for (auto& s : series_records(t, {}, windows)) by_series[s.name] = std::move(s.windows);
  take_load_figures(stats, out);
  out.rules = judge_span(rules, stats, by_series, width, start, end);
  return out;
}

level_sequence::level_sequence(const experiment& x, run_control& control, const probes::timeline& timeline,
                               const live_checks& checks, progress& status)
    : x_(x), control_(control), timeline_(timeline), checks_(checks), status_(status) {}

asio::awaitable<void> level_sequence::run() {
  auto& abort = control_.abort();
  asio::co_spawn(control_.executor(), watch_abort_rules(control_, checks_, timeline_.start(), 0),
                 log_stray_exception(logger("runner"), "abort rules"));
  nanoseconds start{};
  current_ = "level";
  for (std::size_t i = 0; i < x_.levels.size() && !abort.is_set(); ++i) {
    const auto& level = x_.levels[i];
    level_ = i;
    const auto end = start + level.stage.duration;
    status_.set_phase(fmt::format("level {}/{} {}", i + 1, x_.levels.size(), level.name), level.stage.duration);
    control_.log(fmt::format("level {}/{} '{}': {} for {}", i + 1, x_.levels.size(), level.name, load_text(level.stage),
                             format_duration(level.stage.duration)));
    co_await (sleep_until(control_.time(), timeline_.start() + end) || abort.wait());
    const auto stopped = std::min(end, timeline_.offset_of(control_.now()));
    reports::phase_span span{level_phase(level.name), seconds(start), seconds(stopped)};
    spans_.push_back(span);
    if (!abort.is_set())
      asio::co_spawn(control_.executor(), report(i, span), log_stray_exception(logger("runner"), "level report"));
    start = end;
  }
  // The last level's answers come within the settle time; its report is logged meanwhile.
  co_await (sleep_for(control_.time(), checks_.settle() + std::chrono::milliseconds(200)) || abort.wait());
  current_ = "done";
}

asio::awaitable<void> level_sequence::report(std::size_t index, reports::phase_span span) {
  co_await (sleep_until(control_.time(), timeline_.start() + std::chrono::duration_cast<nanoseconds>(
                                                                std::chrono::duration<double>(span.end)) + checks_.settle()) ||
            control_.abort().wait() || control_.finished().wait());
  if (control_.abort().is_set() || control_.finished().is_set()) co_return;
  const auto& level = x_.levels[index];
  const auto r = judge_live_span(timeline_, level.require, span.start, span.end);
  control_.log(fmt::format("level '{}' {}: {:.1f}/s, p50 {}, p95 {}, p99 {}, errors {}", level.name,
                           r.held() ? "held" : "MISSED " + r.first_broken(), r.rate, format_seconds(r.p50),
                           format_seconds(r.p95), format_seconds(r.p99), format_percent(r.error_rate)));
}

}  // namespace faultline::engine
