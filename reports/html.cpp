#include "reports/html.hpp"

#include "probes/resource_quantity.hpp"
#include "reports/charts.hpp"
#include "reports/format.hpp"
#include "reports/load_results.hpp"
#include "reports/margins.hpp"
#include "reports/routes.hpp"
#include "reports/run_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace faultline::reports {

namespace {

constexpr std::string_view stylesheet = R"css(
:root {
  --ink: #1f2328; --muted: #59636e; --faint: #818b98; --line: #d8dee4; --page: #f5f7f9; --card: #ffffff;
  --pass: #1a7f37; --pass-bg: #dafbe1; --pass-line: #4ac26b;
  --fail: #cf222e; --fail-bg: #ffebe9; --fail-line: #ff8182;
  --warn: #9a6700; --warn-bg: #fff8c5; --warn-line: #d4a72c;
  --accent: #0969da; --fault: #8250df; --action: #bc4c00;
  --phase-steady_before: #eef0f3; --phase-baseline: #e6effb; --phase-fault: #fce8e8; --phase-recovery: #fff2da; --phase-after: #e4f5ea;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--page); color: var(--ink);
  font: 14px/1.5 Inter, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1140px; margin: 0 auto; padding: 28px 32px 40px; }
h1 { font-size: 28px; line-height: 1.2; margin: 2px 0 6px; letter-spacing: -0.01em; }
h2 { font-size: 17px; margin: 0 0 12px; letter-spacing: -0.005em; }
h3 { font-size: 14px; margin: 0; }
p { margin: 0 0 8px; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", "Cascadia Mono", "Liberation Mono", "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
.brand { font-size: 11.5px; font-weight: 600; letter-spacing: 0.08em; text-transform: uppercase; color: var(--faint); }
.lede { color: var(--muted); font-size: 15px; max-width: 820px; }
.meta { display: flex; flex-wrap: wrap; gap: 6px 16px; color: var(--muted); font-size: 12.5px; margin-top: 8px; }
.chip { display: inline-block; padding: 1px 8px; border-radius: 999px; background: #eaeef2; color: #424a53; font-size: 12px; margin-right: 4px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-top: 18px; }
.verdict { display: flex; align-items: center; gap: 18px; border-left-width: 6px; }
.verdict.passed { border-left-color: var(--pass); }
.verdict.failed { border-left-color: var(--fail); }
.verdict.other { border-left-color: var(--warn-line); }
.badge { display: inline-flex; align-items: center; gap: 8px; padding: 6px 14px; border-radius: 999px; font-weight: 700; font-size: 18px; white-space: nowrap; }
.badge.passed { background: var(--pass-bg); color: var(--pass); }
.badge.failed { background: var(--fail-bg); color: var(--fail); }
.badge.other { background: var(--warn-bg); color: var(--warn); }
.verdict-reason { font-size: 15px; margin: 0; }
.verdict-sub { color: var(--muted); font-size: 12.5px; margin: 2px 0 0; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(158px, 1fr)); gap: 12px; margin-top: 12px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-height: 104px; }
.kpi .label { font-size: 11.5px; font-weight: 600; letter-spacing: 0.05em; text-transform: uppercase; color: var(--faint); }
.kpi .value { font-size: 26px; font-weight: 700; line-height: 1.2; margin-top: 4px; font-variant-numeric: tabular-nums; }
.kpi .value small { font-size: 14px; font-weight: 600; color: var(--muted); }
.kpi .note { font-size: 12px; color: var(--muted); margin-top: 2px; }
.kpi.good .value { color: var(--pass); } .kpi.bad .value { color: var(--fail); } .kpi.warn .value { color: var(--warn); }
.score { display: flex; align-items: center; gap: 10px; margin-top: 6px; }
.score svg { flex: none; }
.score-ring text { font-size: 17px; font-weight: 700; fill: var(--ink); font-variant-numeric: tabular-nums; }
.score .note { font-size: 11.5px; line-height: 1.35; }
.ring-track { fill: none; stroke: #eaeef2; stroke-width: 6; }
.ring { fill: none; stroke-width: 6; stroke-linecap: round; }
.ring.good { stroke: var(--pass); } .ring.warn { stroke: var(--warn-line); } .ring.bad { stroke: var(--fail); }
.tiers { display: flex; gap: 3px; margin-top: 8px; }
.tiers span { flex: 1; height: 6px; border-radius: 3px; background: #eaeef2; }
.tiers span.on { background: var(--tier, var(--pass)); }
.tier-bronze { --tier: #b3743f; } .tier-silver { --tier: #8c959f; } .tier-gold { --tier: #c69026; } .tier-platinum { --tier: #5a67d8; }
.narrative p { font-size: 14.5px; max-width: 900px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 12px; color: var(--muted); margin: 4px 0 10px; }
.legend i { display: inline-block; width: 14px; height: 10px; border-radius: 2px; vertical-align: -1px; margin-right: 5px; }
.legend i.dash { height: 0; border-top: 2px dashed var(--fault); border-radius: 0; vertical-align: 3px; }
.legend i.dash.detected { border-top-color: var(--fail); } .legend i.dash.recovered { border-top-color: var(--pass); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
table.compact { width: auto; min-width: 420px; }
table.compact td, table.compact th { padding-right: 28px; }
tr.group-start td { border-top: 1px solid var(--line); }
.state { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; color: #fff; }
.state.closed { background: #2da44e; } .state.open { background: #cf222e; } .state.half_open { background: #d4a72c; }
th { text-align: left; font-size: 11.5px; font-weight: 600; letter-spacing: 0.04em; text-transform: uppercase; color: var(--faint);
  border-bottom: 1px solid var(--line); padding: 6px 10px; white-space: nowrap; }
td { border-bottom: 1px solid #eef1f4; padding: 8px 10px; vertical-align: top; }
tr:last-child td { border-bottom: none; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.pill.met, .pill.observed, .pill.passed { background: var(--pass-bg); color: var(--pass); }
.pill.missed, .pill.error, .pill.failed { background: var(--fail-bg); color: var(--fail); }
.pill.unobserved, .pill.other { background: var(--warn-bg); color: var(--warn); }
.pill.neutral { background: #eaeef2; color: #424a53; }
.grade { display: flex; align-items: center; gap: 8px; justify-content: flex-end; }
.grade .bar { width: 72px; height: 6px; border-radius: 3px; background: #eaeef2; overflow: hidden; }
.grade .bar b { display: block; height: 100%; background: var(--pass-line); }
.grade .bar b.missed { background: var(--fail-line); }
.expectation-name { font-weight: 600; }
.sub { color: var(--muted); font-size: 12.5px; }
.faults { display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr)); gap: 12px; }
.fault { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; border-top: 4px solid var(--fault); }
.fault.action { border-top-color: var(--action); }
.fault header { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; }
.fault .params { margin: 6px 0; }
.fault dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0 0; font-size: 12.5px; }
.fault dt { color: var(--muted); } .fault dd { margin: 0; overflow-wrap: anywhere; }
.fault .summary { margin-top: 6px; }
.fault .problem { margin-top: 8px; padding: 6px 10px; border-radius: 6px; background: var(--fail-bg); color: var(--fail); font-size: 12.5px; }
pre { background: #f6f8fa; border: 1px solid #eaeef2; border-radius: 6px; padding: 10px 12px; overflow: auto; max-height: 420px; margin: 8px 0 0; }
details summary { cursor: pointer; font-weight: 600; }
dl.env { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.env dt { color: var(--muted); } dl.env dd { margin: 0; }
footer { color: var(--faint); font-size: 12px; margin-top: 22px; text-align: center; }
.muted { color: var(--muted); }
svg.timeline { display: block; width: 100%; height: auto; font-size: 11px; }
.timeline text { fill: var(--muted); }
.timeline .panel-title { fill: var(--ink); font-size: 12px; font-weight: 600; }
.timeline .legend-label { fill: var(--muted); font-size: 11px; }
.timeline .plot { fill: #fff; stroke: var(--line); }
.timeline .phase-steady_before { fill: var(--phase-steady_before); } .timeline .phase-baseline { fill: var(--phase-baseline); }
.timeline .phase-fault { fill: var(--phase-fault); } .timeline .phase-recovery { fill: var(--phase-recovery); }
.timeline .phase-after { fill: var(--phase-after); }
.timeline rect.phase { opacity: 0.75; }
.timeline .ribbon-label { fill: #32383f; font-size: 11px; font-weight: 600; }
.timeline .grid { stroke: #e9edf1; stroke-width: 1; } .timeline .grid.vertical { stroke: #f0f3f6; }
.timeline .axis { stroke: #8c959f; }
.timeline .line { fill: none; stroke-width: 1.7; stroke-linejoin: round; stroke-linecap: round; }
.timeline .line.p50 { stroke: #8fbcf5; } .timeline .line.p95 { stroke: #2f6fd6; } .timeline .line.p99 { stroke: #0b2a6f; stroke-width: 1.9; }
.timeline .dot.p50 { fill: #8fbcf5; } .timeline .dot.p95 { fill: #2f6fd6; } .timeline .dot.p99 { fill: #0b2a6f; }
.timeline .line.rps { stroke: #0f766e; } .timeline .area.rps { fill: #0f766e; opacity: 0.12; } .timeline .dot.rps { fill: #0f766e; }
.timeline .line.error_rate { stroke: #cf222e; } .timeline .area.error_rate { fill: #cf222e; opacity: 0.14; } .timeline .dot.error_rate { fill: #cf222e; }
.timeline .line.rss, .timeline .line.memory { stroke: #8250df; } .timeline .dot.rss, .timeline .dot.memory { fill: #8250df; }
.timeline .line.cpu { stroke: #bc4c00; } .timeline .dot.cpu { fill: #bc4c00; }
.timeline .line.connections { stroke: #1f6feb; } .timeline .dot.connections { fill: #1f6feb; }
.timeline .line.tcp_established { stroke: #57ab5a; stroke-dasharray: 4 2; } .timeline .dot.tcp_established { fill: #57ab5a; }
.timeline .legend.line { stroke-width: 3; }
.timeline .fault-start { stroke: var(--fault); stroke-width: 1.3; stroke-dasharray: 5 3; }
.timeline .fault-end { stroke: var(--fault); stroke-width: 1.3; stroke-dasharray: 1.5 2.5; }
.timeline .action-start { stroke: var(--action); stroke-width: 1.3; stroke-dasharray: 5 3; }
.timeline .marker-detected { stroke: var(--fail); stroke-width: 1.2; stroke-dasharray: 2 3; }
.timeline .marker-recovered { stroke: var(--pass); stroke-width: 1.2; stroke-dasharray: 2 3; }
.timeline .fault-bar { fill: var(--fault); } .timeline .action-bar { fill: var(--action); }
.timeline .fault-bar.failed, .timeline .action-bar.failed { fill: #8c959f; }
.timeline .fault-bar.unreverted { fill: var(--fail); }
.timeline .lane-label { fill: var(--ink); font-size: 11px; font-weight: 600; } .timeline .lane-label.inside { fill: #fff; }
.timeline .band-label { fill: var(--muted); font-size: 11px; }
.timeline .band rect, .timeline .phase-ribbon rect { shape-rendering: crispEdges; }
.timeline .band-text { fill: #fff; font-size: 10px; font-weight: 700; }
.timeline .breaker-closed { fill: #2da44e; } .timeline .breaker-open { fill: #cf222e; } .timeline .breaker-half_open { fill: #d4a72c; }
.timeline .probe-ok { fill: #a8e6b8; } .timeline .probe-degraded { fill: #f2c46d; } .timeline .probe-failing { fill: #f07b73; }
.timeline .probe-idle { fill: #eaeef2; }
.timeline .annotation line { stroke-width: 1.5; } .timeline .annotation text { font-weight: 700; font-size: 11.5px; }
.timeline .annotation.mttd line { stroke: var(--fail); } .timeline .annotation.mttd text { fill: var(--fail); }
.timeline .annotation.mttr line { stroke: var(--pass); } .timeline .annotation.mttr text { fill: var(--pass); }
.timeline .annotation.not-recovered line { stroke: var(--fail); } .timeline .annotation.not-recovered text { fill: var(--fail); }
.timeline .hover { fill: transparent; } .timeline .hover:hover { fill: rgba(9, 105, 218, 0.08); }
.suite-bar { display: flex; height: 10px; border-radius: 5px; overflow: hidden; background: #eaeef2; margin-top: 10px; }
.suite-bar .passed { background: var(--pass-line); } .suite-bar .failed { background: var(--fail-line); } .suite-bar .other { background: var(--warn-line); }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
@media (max-width: 720px) { main { padding: 18px 14px; } .verdict { flex-direction: column; align-items: flex-start; } }
@media print { body { background: #fff; } main { max-width: none; padding: 0; } .card, .kpi, .fault { break-inside: avoid; } }
)css";

std::string esc(std::string_view s) { return xml_escape(s); }

std::string verdict_class(std::string_view result) {
  if (result == "passed") return "passed";
  if (result == "failed") return "failed";
  return "other";
}

std::string verdict_mark(std::string_view result) {
  if (result == "passed") return "✓";
  if (result == "failed") return "✕";
  return "!";
}

std::string score_class(double score) { return score >= 80 ? "good" : score >= 50 ? "warn" : "bad"; }

std::string score_ring(double score) {
  constexpr double r = 27;
  double circumference = 2 * std::numbers::pi * r;
  double filled = std::clamp(score, 0.0, 100.0) / 100 * circumference;
  return fmt::format(
      "<svg class=\"score-ring\" width=\"66\" height=\"66\" viewBox=\"0 0 66 66\" aria-hidden=\"true\"><circle class=\"ring-track\" "
      "cx=\"33\" cy=\"33\" r=\"{0}\"/><circle class=\"ring {1}\" cx=\"33\" cy=\"33\" r=\"{0}\" stroke-dasharray=\"{2:.2f} {3:.2f}\" "
      "transform=\"rotate(-90 33 33)\"/><text x=\"33\" y=\"39\" text-anchor=\"middle\">{4}</text></svg>",
      r, score_class(score), filled, circumference, format_score(score));
}

int tier_rank(std::string_view tier) {
  if (tier == "bronze") return 1;
  if (tier == "silver") return 2;
  if (tier == "gold") return 3;
  if (tier == "platinum") return 4;
  return 0;
}

std::string kpi(std::string_view cls, std::string_view label, const std::string& value, const std::string& note) {
  return fmt::format("<div class=\"kpi {}\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"note\">{}</div></div>\n",
                     cls, label, value, note);
}

// Flattens evidence details into rows: nested objects become dotted keys, arrays stay JSON.
void flatten(const nlohmann::json& v, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& rows) {
  if (v.is_object() && !v.empty()) {
    for (const auto& [k, child] : v.items()) flatten(child, prefix.empty() ? k : prefix + "." + k, rows);
    return;
  }
  std::string text;
  if (v.is_string())
    text = v.get<std::string>();
  else if (v.is_number_float())
    text = format_number(v.get<double>(), 4);
  else if (v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0))
    text = format_count(v.get<std::uint64_t>());
  else
    text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  rows.emplace_back(prefix, text);
}

// "2026-03-14T09:30:00.000Z" -> "2026-03-14 09:30:00 UTC"; anything else as written.
std::string readable_time(const std::string& iso) {
  if (iso.size() < 19 || iso[10] != 'T') return iso;
  bool utc = iso.back() == 'Z';
  return iso.substr(0, 10) + " " + iso.substr(11, 8) + (utc ? " UTC" : "");
}

std::string state_label(std::string_view state) { return state == "half_open" ? "half-open" : std::string(state); }

// An expectation's margins: "p95 load/fault +58ms [+12ms, +96ms]" per line, a pill when borderline.
std::string margins_cell(const std::vector<margin_record>& margins) {
  std::string out;
  for (const auto& m : margins) {
    std::string text = format_margin_value(m.unit, m.margin);
    if (m.low && m.high) text += fmt::format(" [{}, {}]", format_margin_value(m.unit, *m.low), format_margin_value(m.unit, *m.high));
    out += fmt::format("<div class=\"margin\" data-quantity=\"{}\" title=\"{}: {}\"><span class=\"sub\">{}</span> {}{}</div>", xml_escape(m.quantity),
                       xml_escape(m.quantity), xml_escape(margin_basis_text(m.basis)), xml_escape(m.quantity), xml_escape(text),
                       m.borderline ? " <span class=\"pill other\">borderline</span>" : "");
  }
  return out.empty() ? "—" : out;
}

// " (±10ms)": how finely a time is known, for a KPI's note.
std::string within(const std::optional<double>& resolution) {
  if (!resolution || *resolution <= 0) return "";
  return " (±" + format_seconds(*resolution / 2) + ")";
}

const phase_stat* stat_for(const journal& j, const series_record* s, std::string_view phase) {
  return s ? find_phase_stat(j, s->name, phase) : nullptr;
}

class page_builder {
public:
  explicit page_builder(const journal& j) : j_(j), s_(summarize(j)), primary_(primary_series(j)) {}

  std::string render() {
    std::string out;
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += "<meta name=\"generator\" content=\"faultline " + esc(j_.environment.faultline_version) + "\">\n";
    out += fmt::format("<title>{} · {} · faultline report</title>\n", esc(j_.experiment.name), esc(s_.result_title));
    out += "<style>";
    out += stylesheet;
    out += "</style>\n</head>\n<body>\n<main>\n";
    header(out);
    verdict(out);
    key_numbers(out);
    narrative(out);
    timeline(out);
    expectations(out);
    out += levels_html(j_.analysis);
    out += capacity_html(j_.analysis);
    faults(out);
    phases(out);
    breaker(out);
    environment(out);
    out += fmt::format(
        "<footer>Rendered by faultline {} from journal schema version {} · run {} · self-contained: no scripts, nothing "
        "fetched</footer>\n",
        esc(j_.environment.faultline_version), j_.schema_version, esc(j_.run_id));
    out += "</main>\n</body>\n</html>\n";
    return out;
  }

private:
  void header(std::string& out) const {
    out += "<header>\n<div class=\"brand\">faultline · resilience report</div>\n";
    out += fmt::format("<h1>{}</h1>\n", esc(j_.experiment.name));
    if (!j_.experiment.description.empty()) out += fmt::format("<p class=\"lede\">{}</p>\n", esc(j_.experiment.description));
    out += "<div class=\"meta\">";
    if (!j_.experiment.tags.empty()) {
      out += "<span>";
      for (const auto& t : j_.experiment.tags) out += fmt::format("<span class=\"chip\">{}</span>", esc(t));
      out += "</span>";
    }
    if (!j_.started_at.empty()) out += fmt::format("<span>started {}</span>", esc(readable_time(j_.started_at)));
    out += fmt::format("<span>ran {}</span>", format_seconds(s_.duration));
    if (!j_.environment.host.empty()) out += fmt::format("<span>on {}</span>", esc(j_.environment.host));
    if (!j_.experiment.file.empty()) out += fmt::format("<span class=\"mono\">{}</span>", esc(j_.experiment.file));
    out += "</div>\n</header>\n";
  }

  void verdict(std::string& out) const {
    auto cls = verdict_class(s_.result);
    out += fmt::format("<section class=\"card verdict {0}\" id=\"verdict\" data-result=\"{1}\">\n<span class=\"badge {0}\">{2} {3}</span>\n",
                       cls, esc(s_.result), verdict_mark(s_.result), esc(s_.result_title));
    out += "<div>\n";
    out += fmt::format("<p class=\"verdict-reason\">{}</p>\n", esc(s_.reason.empty() ? "No reason recorded." : s_.reason));
    out += fmt::format("<p class=\"verdict-sub\">{} of {} expectations met · exit code {}</p>\n", s_.expectations_met, s_.expectations,
                       j_.verdict.exit_code);
    out += "</div>\n</section>\n";
  }

  void key_numbers(std::string& out) const {
    out += "<section class=\"kpis\" id=\"key-numbers\">\n";
    out += fmt::format(
        "<div class=\"kpi\"><div class=\"label\">Resilience score</div><div class=\"score\" data-score=\"{}\">{}<div class=\"note\">"
        "out of 100</div></div></div>\n",
        s_.score, score_ring(s_.score));

    auto tier = s_.sla_tier.empty() ? std::string("none") : s_.sla_tier;
    std::string ladder = fmt::format("<div class=\"tiers tier-{}\">", esc(tier));
    for (int i = 1; i <= 4; ++i) ladder += i <= tier_rank(tier) ? "<span class=\"on\"></span>" : "<span></span>";
    ladder += "</div>";
    out += fmt::format("<div class=\"kpi\"><div class=\"label\">SLA tier achieved</div><div class=\"value\" data-tier=\"{0}\">{0}</div>{1}"
                       "<div class=\"note\">{2}</div></div>\n",
                       esc(tier), ladder,
                       j_.analysis.sla_tier_range && *j_.analysis.sla_tier_range != tier
                           ? "borderline: " + esc(*j_.analysis.sla_tier_range) + " within the fault phase's noise"
                           : std::string("highest tier held in the fault phase"));

    bool all_met = s_.expectations_met == s_.expectations;
    out += kpi(all_met ? "good" : "bad", "Expectations",
               fmt::format("{}<small>/{}</small>", s_.expectations_met, s_.expectations), all_met ? "all met" : fmt::format("{} missed", s_.expectations - s_.expectations_met));
    out += kpi("", "MTTD", format_seconds(s_.mttd),
               s_.mttd ? "fault start → steady state broken" + within(s_.mttd_resolution) : "steady state never broke");
    if (s_.mttr)
      out += kpi("", "MTTR", format_seconds(*s_.mttr), "last revert → steady again" + within(s_.mttr_resolution));
    else
      out += kpi(s_.recovered ? "" : "bad", "MTTR", s_.recovered ? "—" : "not recovered",
                 s_.recovered ? "" : "within the recovery timeout");
    if (s_.breaker_seen) {
      std::string value = s_.breaker_opened ? format_seconds(*s_.breaker_opened) : "never";
      std::string note =
          s_.breaker_opened ? "to open after fault start" + within(s_.breaker_opened_resolution) : "the breaker never opened";
      if (s_.breaker_closed)
        note += fmt::format("; closed {} after the last revert",
                            format_seconds_within(s_.breaker_closed, s_.breaker_closed_resolution));
      else if (s_.breaker_opened) note += "; never closed";
      if (s_.breaker_flaps > 0) note += fmt::format("; {} flap{}", s_.breaker_flaps, s_.breaker_flaps == 1 ? "" : "s");
      out += kpi("", "Circuit breaker", value, note);
    }
    out += "</section>\n";
  }

  // A few sentences an executive can read without the charts; every number comes from the journal.
  void narrative(std::string& out) const {
    std::vector<std::string> sentences;
    const auto* fault = find_phase(j_, "fault");
    const auto* during = stat_for(j_, primary_, "fault");
    const auto* baseline = stat_for(j_, primary_, "baseline");
    std::size_t faults = 0, actions = 0;
    for (const auto& f : j_.faults) (f.action ? actions : faults)++;
    if (fault && during) {
      std::string s = fmt::format("During the {} of faults ({} fault{}{}), {} kept {} of {} requests successful", format_seconds(fault->end - fault->start),
                                  faults, faults == 1 ? "" : "s",
                                  actions ? fmt::format(" and {} runbook action{}", actions, actions == 1 ? "" : "s") : "",
                                  primary_->name == "load" ? "the service" : primary_->name, format_percent(during->availability),
                                  format_count(during->count));
      if (during->p95) {
        s += fmt::format(" with a p95 latency of {}", format_seconds(*during->p95));
        if (baseline && baseline->p95) s += fmt::format(" (baseline {})", format_seconds(*baseline->p95));
      }
      sentences.push_back(s + ".");
    }
    if (j_.analysis.mttd)
      sentences.push_back(fmt::format("The steady state broke {} after the first fault started.", format_seconds(*j_.analysis.mttd)));
    else if (fault)
      sentences.push_back("The steady state held throughout the faults.");
    if (j_.analysis.mttr)
      sentences.push_back(fmt::format("It was steady again {} after the last fault ended.", format_seconds(*j_.analysis.mttr)));
    else if (fault && !j_.analysis.recovered)
      sentences.push_back("It did not recover within the recovery timeout.");
    if (const auto& b = j_.analysis.breaker; b && b->time_to_open) {
      std::string s = fmt::format("The circuit breaker opened {} after the fault started", format_seconds(*b->time_to_open));
      s += b->time_to_close ? fmt::format(" and closed {} after the last fault ended", format_seconds(*b->time_to_close))
                            : std::string(" and did not close");
      if (b->flaps > 0) s += fmt::format(", flapping {} time{}", b->flaps, b->flaps == 1 ? "" : "s");
      sentences.push_back(s + ".");
    } else if (b) {
      sentences.push_back("The circuit breaker never opened.");
    }
    std::vector<std::string> missed;
    for (const auto& e : j_.analysis.expectations)
      if (!e.met) missed.push_back(fmt::format("{} (measured {}, target {})", e.name, e.measured, e.target));
    if (!missed.empty()) {
      std::string s = fmt::format("Missed: ");
      for (std::size_t i = 0; i < missed.size(); ++i) s += (i ? "; " : "") + missed[i];
      sentences.push_back(s + ".");
    }
    std::size_t unobserved = 0;
    for (const auto& f : j_.faults)
      if (!f.action && f.injected_at && !f.evidence.observed) ++unobserved;
    if (unobserved)
      sentences.push_back(fmt::format("{} fault{} had no observable effect; see the evidence below.", unobserved, unobserved == 1 ? "" : "s"));
    if (sentences.empty()) return;
    out += "<section class=\"card narrative\" id=\"summary\">\n<h2>In short</h2>\n<p>";
    for (std::size_t i = 0; i < sentences.size(); ++i) out += (i ? " " : "") + esc(sentences[i]);
    out += "</p>\n</section>\n";
  }

  void timeline(std::string& out) const {
    auto figure = render_timeline_figure(j_);
    if (figure.empty()) return;
    out += "<section class=\"card\" id=\"timeline\">\n<h2>Timeline</h2>\n<div class=\"legend\">";
    for (auto phase : phase_order)
      if (find_phase(j_, phase))
        out += fmt::format("<span><i style=\"background: var(--phase-{})\"></i>{}</span>", phase,
                           phase == "steady_before" ? "steady-state check" : phase);
    out += "<span><i class=\"dash\"></i>fault start / end</span>";
    if (j_.analysis.mttd) out += "<span><i class=\"dash detected\"></i>steady state broken (MTTD)</span>";
    if (j_.analysis.mttr) out += "<span><i class=\"dash recovered\"></i>steady again (MTTR)</span>";
    if (j_.analysis.breaker)
      out += "<span><i style=\"background:#2da44e\"></i>breaker closed</span><span><i style=\"background:#d4a72c\"></i>half-open</span>"
             "<span><i style=\"background:#cf222e\"></i>open</span>";
    if (j_.series.size() > 1)
      out += "<span><i style=\"background:#a8e6b8\"></i>probe ok</span><span><i style=\"background:#f2c46d\"></i>some checks failed</span>"
             "<span><i style=\"background:#f07b73\"></i>all failed</span>";
    out += "</div>\n";
    out += figure;
    out += fmt::format("<p class=\"sub\" style=\"margin-top:8px\">One point per {} window, drawn at the window's middle; hover a window "
                       "for its numbers.</p>\n</section>\n",
                       format_seconds(j_.window));
  }

  void expectations(std::string& out) const {
    out += "<section class=\"card\" id=\"expectations\">\n<h2>Expectations</h2>\n";
    if (j_.analysis.expectations.empty()) {
      out += "<p class=\"muted\">The experiment states no expectations.</p>\n</section>\n";
      return;
    }
    out += "<table>\n<thead><tr><th>Status</th><th>Expectation</th><th>Target</th><th>Measured</th><th>Margin</th><th class=\"num\">Grade</th>"
           "<th class=\"num\">Weight</th></tr></thead>\n<tbody>\n";
    for (const auto& e : j_.analysis.expectations) {
      auto cls = e.met ? "met" : "missed";
      double pct = std::clamp(e.grade, 0.0, 1.0) * 100;
      out += fmt::format(
          "<tr data-expectation=\"{}\"{}><td><span class=\"pill {}\">{}</span></td><td><div class=\"expectation-name mono\">{}</div>"
          "<div class=\"sub\">{}</div></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\"><div class=\"grade\"><span>{}%</span><span "
          "class=\"bar\"><b class=\"{}\" style=\"width:{:.1f}%\"></b></span></div></td><td class=\"num\">{}</td></tr>\n",
          esc(e.name), e.borderline() ? " data-borderline=\"true\"" : "", cls, e.met ? "met" : "missed", esc(e.name),
          esc(e.description), esc(e.target), esc(e.measured), margins_cell(e.margins), format_number(pct, 0), cls, pct,
          format_number(e.weight));
    }
    out += "</tbody>\n</table>\n<p class=\"sub\" style=\"margin-top:8px\">Margin: how far the measured value lies from the target "
           "(positive: on the met side), with its 95 % interval; <b>borderline</b> when the interval spans the target, so met and "
           "missed are both within the run's noise.</p>\n</section>\n";
  }

  void faults(std::string& out) const {
    if (j_.faults.empty()) return;
    out += "<section class=\"card\" id=\"faults\">\n<h2>Faults and evidence</h2>\n<div class=\"faults\">\n";
    for (const auto& f : j_.faults) {
      std::string status_cls, status;
      if (!f.error.empty()) {
        status_cls = "error";
        status = "error";
      } else if (!f.injected_at) {
        status_cls = "neutral";
        status = f.action ? "did not run" : "not injected";
      } else if (f.action) {
        status_cls = "neutral";
        status = "ran";
      } else if (f.evidence.observed) {
        status_cls = "observed";
        status = "applied and observed";
      } else {
        status_cls = "unobserved";
        status = "no observable effect";
      }
      out += fmt::format("<article class=\"fault{}\" data-step=\"{}\">\n<header><h3>{} <span class=\"muted\">· {}{}{}</span></h3>"
                         "<span class=\"pill {}\">{}</span></header>\n",
                         f.action ? " action" : "", esc(f.step), esc(f.step), esc(f.type), f.target.empty() ? "" : " on ", esc(f.target),
                         status_cls, esc(status));
      if (!f.params.empty()) {
        out += "<div class=\"params\">";
        for (const auto& [k, v] : f.params) out += fmt::format("<span class=\"chip\">{} {}</span>", esc(k), esc(v));
        out += "</div>\n";
      }
      if (!f.evidence.summary.empty()) out += fmt::format("<p class=\"summary\">{}</p>\n", esc(f.evidence.summary));
      out += "<dl>";
      if (f.injected_at) out += fmt::format("<dt>{}</dt><dd>t = {}</dd>", f.action ? "started" : "injected", format_seconds(*f.injected_at));
      if (f.reverted_at) {
        out += fmt::format("<dt>{}</dt><dd>t = {}", f.action ? "finished" : "reverted", format_seconds(*f.reverted_at));
        if (f.injected_at) out += fmt::format(" ({})", format_seconds(*f.reverted_at - *f.injected_at));
        out += "</dd>";
      } else if (f.injected_at && !f.action) {
        out += "<dt>reverted</dt><dd>never</dd>";
      }
      if (!f.engine.empty()) out += fmt::format("<dt>engine</dt><dd>{}</dd>", esc(f.engine));
      std::vector<std::pair<std::string, std::string>> rows;
      flatten(f.evidence.details, "", rows);
      for (const auto& [k, v] : rows)
        if (!k.empty() && !k.starts_with("routes.")) out += fmt::format("<dt>{}</dt><dd class=\"mono\">{}</dd>", esc(k), esc(v));
      out += "</dl>\n";
      if (const auto routes = route_counts(f.evidence); !routes.empty()) {
        out += "<table class=\"compact routes\">\n<thead><tr><th>Route</th><th class=\"num\">Seen</th>"
               "<th class=\"num\">Matched</th><th class=\"num\">Acted on</th></tr></thead>\n<tbody>\n";
        for (const auto& r : routes)
          out += fmt::format("<tr data-route=\"{0}\"><td class=\"mono\">{0}</td><td class=\"num\">{1}</td><td class=\"num\">{2}</td>"
                             "<td class=\"num\">{3}</td></tr>\n",
                             esc(r.route), format_count(r.seen), format_count(r.matched), format_count(r.affected));
        out += "</tbody></table>\n";
      }
      if (!f.error.empty()) out += fmt::format("<div class=\"problem\">{}</div>\n", esc(f.error));
      if (!f.output.empty()) out += fmt::format("<details><summary>output</summary><pre>{}</pre></details>\n", esc(f.output));
      out += "</article>\n";
    }
    out += "</div>\n</section>\n";
  }

  void phases(std::string& out) const {
    out += "<section class=\"card\" id=\"phases\">\n<h2>Phases</h2>\n";
    if (!j_.phases.empty()) {
      out += "<table class=\"compact\">\n<thead><tr><th>Phase</th><th class=\"num\">From</th><th class=\"num\">To</th><th class=\"num\">Length</th></tr></thead>\n<tbody>\n";
      for (const auto& p : j_.phases)
        out += fmt::format("<tr><td><span class=\"chip\" style=\"background: var(--phase-{0}, #eaeef2)\">{0}</span></td><td class=\"num\">{1}</td>"
                           "<td class=\"num\">{2}</td><td class=\"num\">{3}</td></tr>\n",
                           esc(p.name), format_seconds(p.start), format_seconds(p.end), format_seconds(p.end - p.start));
      out += "</tbody>\n</table>\n";
    }
    if (!j_.analysis.phase_stats.empty()) {
      out += "<h2 style=\"margin-top:18px\">Per series and phase</h2>\n<table>\n<thead><tr><th>Series</th><th>Phase</th><th class=\"num\">Requests</th>"
             "<th class=\"num\">Rate</th><th class=\"num\">Availability</th><th class=\"num\">Errors</th><th class=\"num\">p50</th>"
             "<th class=\"num\">p95</th><th class=\"num\">p99</th><th class=\"num\">Max</th><th class=\"num\">p95 vs baseline</th></tr></thead>\n<tbody>\n";
      for (const auto& series : j_.series) {
        if (probes::split_quantity_series(series.name)) continue;  // a resource quantity: charted, no latency of its own
        bool first = true;
        for (const auto& phase : ordered_phase_names(j_))
          if (const auto* s = find_phase_stat(j_, series.name, phase)) {
            stat_row(out, *s, first);
            first = false;
          }
      }
      // Stats for series the journal has no windows for still get their rows.
      std::string previous;
      for (const auto& s : j_.analysis.phase_stats) {
        bool listed = std::any_of(j_.series.begin(), j_.series.end(), [&](const auto& x) { return x.name == s.series; });
        if (!listed) stat_row(out, s, s.series != previous);
        previous = s.series;
      }
      out += "</tbody>\n</table>\n";
    }
    out += "</section>\n";
  }

  static void stat_row(std::string& out, const phase_stat& s, bool first_of_series) {
    std::string ratio = s.p95_ratio ? "×" + format_number(*s.p95_ratio, *s.p95_ratio >= 10 ? 0 : 2) : "—";
    out += fmt::format(
        "<tr{}><td><b>{}</b></td><td><span class=\"chip\" style=\"background: var(--phase-{}, #eaeef2)\">{}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
        first_of_series ? " class=\"group-start\"" : "", first_of_series ? esc(s.series) : "", esc(s.phase), esc(s.phase),
        format_count(s.count), format_measured_rate(s.rps), format_percent(s.availability), format_percent(s.error_rate),
        format_seconds(s.p50), format_seconds(s.p95), format_seconds(s.p99), format_seconds(s.max), ratio);
  }

  // A transition's moment against the fault: "569ms ±10ms after the fault started".
  std::string when(const breaker_transition& t) const {
    const auto* fault = find_phase(j_, "fault");
    const auto at = [&](double seconds) { return format_seconds_within(seconds, t.resolution); };
    if (!fault) return "at " + at(t.at);
    if (t.at < fault->start) return at(fault->start - t.at) + " before the fault started";
    if (t.at < fault->end) return at(t.at - fault->start) + " after the fault started";
    return at(t.at - fault->end) + " after the last revert";
  }

  void breaker(std::string& out) const {
    if (!j_.analysis.breaker) return;
    const auto& b = *j_.analysis.breaker;
    out += "<section class=\"card\" id=\"breaker\">\n<h2>Circuit breaker</h2>\n";
    std::string source = b.source == "inferred" ? std::string("from outside, from the load's response classes")
                         : b.source.rfind("probe:", 0) == 0 ? "through the state probe '" + b.source.substr(6) + "'"
                                                            : b.source;
    out += fmt::format("<p>Seen {}. Time to open {}, time to close {}, {} flap{} (re-openings from half-open).</p>\n",
                       esc(source),
                       b.time_to_open ? format_seconds_within(b.time_to_open, b.time_to_open_resolution) + " after the fault started"
                                      : std::string("— (never opened)"),
                       b.time_to_close ? format_seconds_within(b.time_to_close, b.time_to_close_resolution) + " after the last revert"
                                       : std::string("— (never closed)"),
                       b.flaps, b.flaps == 1 ? "" : "s");
    if (!b.cross_check.empty()) out += fmt::format("<p class=\"sub\">Cross-check: {}</p>\n", esc(b.cross_check));
    if (!b.transitions.empty()) {
      out += "<table class=\"compact\">\n<thead><tr><th>When</th><th>From</th><th>To</th><th>Seen by</th></tr></thead>\n"
             "<tbody>\n";
      for (const auto& t : b.transitions)
        out += fmt::format("<tr><td>{}</td><td><span class=\"state {}\">{}</span></td><td><span class=\"state {}\">{}</span></td>"
                           "<td>{}</td></tr>\n",
                           esc(when(t)), esc(t.from), esc(state_label(t.from)), esc(t.to), esc(state_label(t.to)),
                           esc(t.seen_by.value_or("—")));
      out += "</tbody>\n</table>\n";
    }
    out += "</section>\n";
  }

  void environment(std::string& out) const {
    out += "<section class=\"card\" id=\"environment\">\n<h2>Run</h2>\n<dl class=\"env\">\n";
    auto row = [&](std::string_view k, const std::string& v) {
      if (!v.empty()) out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", k, esc(v));
    };
    row("run id", j_.run_id);
    row("started", j_.started_at);
    row("ended", j_.ended_at);
    row("host", j_.environment.host);
    row("operating system", j_.environment.os);
    row("kernel", j_.environment.kernel);
    row("faultline", j_.environment.faultline_version);
    row("analysis window", format_seconds(j_.window));
    for (const auto& [step, engine] : j_.environment.engines) row("engine of " + step, engine);
    out += "</dl>\n";
    if (!j_.experiment.resolved_yaml.empty())
      out += fmt::format("<details style=\"margin-top:12px\"><summary>Experiment as run (after variables)</summary><pre>{}</pre></details>\n",
                         esc(j_.experiment.resolved_yaml));
    out += "</section>\n";
  }

  const journal& j_;
  run_summary s_;
  const series_record* primary_;
};

}  // namespace

std::string_view report_stylesheet() { return stylesheet; }

std::string render_html(const journal& run) { return page_builder(run).render(); }

}  // namespace faultline::reports
