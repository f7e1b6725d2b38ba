#include "reports/markdown.hpp"

#include "reports/format.hpp"
#include "reports/load_results.hpp"
#include "reports/margins.hpp"
#include "reports/routes.hpp"
#include "reports/run_summary.hpp"

#include <fmt/format.h>

namespace faultline::reports {

namespace {

std::string result_icon(std::string_view result) {
  if (result == "passed") return "✅";
  if (result == "failed") return "❌";
  return "⚠️";
}

std::string fault_line(const fault_record& f) {
  std::string params;
  for (const auto& [k, v] : f.params) params += fmt::format("{}{} {}", params.empty() ? "" : ", ", k, v);
  std::string when;
  if (f.injected_at && f.reverted_at)
    when = fmt::format("t={}–{}", format_seconds(*f.injected_at), format_seconds(*f.reverted_at));
  else if (f.injected_at)
    when = fmt::format("from t={}, never reverted", format_seconds(*f.injected_at));
  else
    when = "never injected";
  std::string effect;
  if (!f.error.empty())
    effect = "⚠️ error: " + f.error;
  else if (f.action)
    effect = f.evidence.summary.empty() ? "ran" : f.evidence.summary;
  else if (f.evidence.observed)
    effect = "✅ applied and observed: " + f.evidence.summary;
  else
    effect = "⚠️ requested, no observable effect" + (f.evidence.summary.empty() ? "" : ": " + f.evidence.summary);
  return fmt::format("- `{}` {} {}{}{} ({}{}): {}\n", markdown_cell(f.step), f.action ? "action" : "fault",
                     markdown_cell(f.type), f.target.empty() ? "" : " on ", markdown_cell(f.target), when,
                     params.empty() ? "" : "; " + markdown_cell(params), markdown_cell(effect));
}

// An HTTP fault's requests by route, from its evidence; empty for other faults.
std::string route_table(const fault_record& f) {
  const auto routes = route_counts(f.evidence);
  if (routes.empty()) return {};
  std::string out = fmt::format("Requests by route, `{}` ({} on {}):\n\n| Route | Seen | Matched | Acted on |\n|---|---:|---:|---:|\n",
                                markdown_cell(f.step), markdown_cell(f.type), markdown_cell(f.target));
  for (const auto& r : routes)
    out += fmt::format("| `{}` | {} | {} | {} |\n", markdown_cell(r.route), format_count(r.seen), format_count(r.matched),
                       format_count(r.affected));
  return out + "\n";
}

}  // namespace

std::string render_markdown(const journal& j) {
  auto s = summarize(j);
  std::string out;
  out += fmt::format("## {} {}: {}\n\n", result_icon(s.result), markdown_cell(j.experiment.name), s.result_title);
  const std::string tier = s.sla_tier.empty() ? "none" : s.sla_tier;
  const auto& range = j.analysis.sla_tier_range;
  out += fmt::format("**Score {}/100** · **SLA tier {}**{} · {} of {} expectations met · ran {}\n\n", format_score(s.score), tier,
                     range && *range != tier ? " (borderline: " + markdown_cell(*range) + ")" : "", s.expectations_met,
                     s.expectations, format_seconds(s.duration));
  if (!s.reason.empty()) out += fmt::format("> {}\n\n", markdown_cell(s.reason));

  if (!j.analysis.expectations.empty()) {
    out += "| | Expectation | Target | Measured | Margin | Grade |\n|---|---|---|---|---|---|\n";
    for (const auto& e : j.analysis.expectations) {
      auto what = e.description.empty() ? fmt::format("`{}`", markdown_cell(e.name))
                                        : fmt::format("`{}` {}", markdown_cell(e.name), markdown_cell(e.description));
      std::string margins;
      for (const auto& m : e.margins) margins += (margins.empty() ? "" : "; ") + m.quantity + " " + format_margin(m);
      out += fmt::format("| {} | {} | {} | {} | {} | {}% |\n", e.met ? "✅" : "❌", what, markdown_cell(e.target),
                         markdown_cell(e.measured), margins.empty() ? "—" : markdown_cell(margins), format_number(e.grade * 100, 0));
    }
    out += "\n";
  }

  out += levels_markdown(j.analysis);
  out += capacity_markdown(j.analysis);

  out += "| MTTD | MTTR | Breaker opened | Breaker closed | Breaker flaps |\n|---|---|---|---|---|\n";
  std::string mttr = s.mttr ? format_seconds_within(s.mttr, s.mttr_resolution) : (s.recovered ? "—" : "not recovered");
  std::string opened = "—", closed = "—", flaps = "—";
  if (s.breaker_seen) {
    opened = s.breaker_opened ? format_seconds_within(s.breaker_opened, s.breaker_opened_resolution) + " after fault start"
                              : "never opened";
    closed = s.breaker_closed ? format_seconds_within(s.breaker_closed, s.breaker_closed_resolution) + " after last revert"
                              : "never closed";
    flaps = std::to_string(s.breaker_flaps);
  }
  out += fmt::format("| {} | {} | {} | {} | {} |\n\n", format_seconds_within(s.mttd, s.mttd_resolution), mttr, opened,
                     closed, flaps);

  if (!s.phases.empty()) {
    out += "| Phase | Worst p99 | Worst error rate |\n|---|---|---|\n";
    for (const auto& p : s.phases) {
      auto p99 = p.worst_p99 ? fmt::format("{} ({})", format_seconds(*p.worst_p99), markdown_cell(p.worst_p99_series)) : "—";
      out += fmt::format("| {} | {} | {} ({}) |\n", p.phase, p99, format_percent(p.worst_error_rate),
                         markdown_cell(p.worst_error_rate_series));
    }
    out += "\n";
  }

  if (!j.faults.empty()) {
    out += "**Faults and actions**\n\n";
    for (const auto& f : j.faults) out += fault_line(f);
    out += "\n";
    for (const auto& f : j.faults) out += route_table(f);
  }
  out += fmt::format("<sub>faultline {} · run {} · started {}</sub>\n", markdown_cell(j.environment.faultline_version),
                     markdown_cell(j.run_id), markdown_cell(j.started_at));
  return out;
}

}  // namespace faultline::reports
