#include "reports/repeat_report.hpp"

#include "reports/format.hpp"
#include "reports/html.hpp"
#include "reports/margins.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace faultline::reports {

namespace {

constexpr double figure_width = 1000;
constexpr double label_width = 250;  // figure names, left
constexpr double plot_left = 262;
constexpr double plot_right = 760;
constexpr double value_left = 776;   // "median [low, high]", right
constexpr double row_height = 30;
constexpr double heading_height = 26;

std::string px(double v) { return fmt::format("{:.2f}", v); }
std::string num(double v) { return fmt::format("{:.9g}", v); }

// One row of the spread chart: what it shows and how to write its values.
struct spread_row {
  std::string id;    // data-figure: the figure's name, or "margin <expectation>[ · <quantity>]"
  std::string name;  // the label
  std::vector<double> values;
  std::vector<std::size_t> runs;
  double median = 0;
  std::optional<stats::interval> interval;
  std::function<std::string(double)> text;
  bool target_at_zero = false;  // a margin: the target is at 0, the met side to the right
  bool borderline = false;
};

// The domain a row's points, band and (for margins) target fit in, with a little room either side.
std::pair<double, double> domain_of(const spread_row& r) {
  double lo = r.median, hi = r.median;
  for (double v : r.values) lo = std::min(lo, v), hi = std::max(hi, v);
  if (r.interval) lo = std::min(lo, r.interval->low), hi = std::max(hi, r.interval->high);
  if (r.target_at_zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  double pad = (hi - lo) * 0.06;
  if (pad == 0) pad = std::max(std::fabs(hi) * 0.1, 1e-3);
  return {lo - pad, hi + pad};
}

void draw_row(std::string& out, const spread_row& r, double top) {
  const auto domain = domain_of(r);
  const double d0 = domain.first, d1 = domain.second;
  auto x = [d0, d1](double v) { return plot_left + (v - d0) * (plot_right - plot_left) / (d1 - d0); };
  const double mid = top + row_height / 2;
  out += fmt::format("<g class=\"spread-row{}\" data-figure=\"{}\" data-x-domain=\"{} {}\" data-x-range=\"{} {}\" data-median=\"{}\"",
                     r.borderline ? " borderline" : "", xml_escape(r.id), num(d0), num(d1), px(plot_left), px(plot_right), num(r.median));
  if (r.interval) out += fmt::format(" data-low=\"{}\" data-high=\"{}\"", num(r.interval->low), num(r.interval->high));
  out += ">\n";
  out += fmt::format("<rect class=\"row-track\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", px(plot_left), px(top + 4),
                     px(plot_right - plot_left), px(row_height - 8));
  out += fmt::format("<text class=\"row-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", px(label_width), px(mid + 4),
                     xml_escape(r.name));
  if (r.target_at_zero)
    out += fmt::format("<line class=\"target\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"><title>the target</title></line>", px(x(0)),
                       px(top + 1), px(top + row_height - 1));
  if (r.interval)
    out += fmt::format("<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>95 % interval: {} .. {}</title></rect>",
                       px(x(r.interval->low)), px(top + 7), px(std::max(1.0, x(r.interval->high) - x(r.interval->low))),
                       px(row_height - 14), xml_escape(r.text(r.interval->low)), xml_escape(r.text(r.interval->high)));
  out += fmt::format("<line class=\"median\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"><title>median {3}</title></line>", px(x(r.median)),
                     px(top + 5), px(top + row_height - 5), xml_escape(r.text(r.median)));
  for (std::size_t i = 0; i < r.values.size(); ++i) {
    // Runs with equal values side by side vertically, so each stays visible.
    double dy = (static_cast<double>(i % 3) - 1) * 4;
    out += fmt::format("<circle class=\"run\" data-run=\"{}\" data-value=\"{}\" cx=\"{}\" cy=\"{}\" r=\"3.6\"><title>run {}: {}</title></circle>",
                       r.runs[i], num(r.values[i]), px(x(r.values[i])), px(mid + dy), r.runs[i], xml_escape(r.text(r.values[i])));
  }
  std::string value = r.text(r.median);
  if (r.interval) value += fmt::format(" [{}, {}]", r.text(r.interval->low), r.text(r.interval->high));
  out += fmt::format("<text class=\"row-value\" x=\"{}\" y=\"{}\">{}{}</text>\n</g>\n", px(value_left), px(mid + 4), xml_escape(value),
                     r.borderline ? " · borderline" : "");
}

std::vector<spread_row> figure_rows(const repeat_summary& s) {
  std::vector<spread_row> rows;
  for (const auto& f : s.figures)
    rows.push_back({f.name, f.name, f.values, f.runs, f.median, f.interval, [name = f.name](double v) { return format_figure_value(name, v); }});
  return rows;
}

std::vector<spread_row> margin_rows(const repeat_summary& s) {
  std::vector<spread_row> rows;
  for (const auto& m : s.margins) {
    std::optional<stats::interval> interval;
    if (m.margin.low && m.margin.high) interval = stats::interval{*m.margin.low, *m.margin.high};
    std::string name = m.expectation == m.margin.quantity ? m.expectation : m.expectation + " · " + m.margin.quantity;
    rows.push_back({"margin " + name, name, m.values, m.runs, m.margin.margin, interval,
                    [unit = m.margin.unit](double v) { return format_margin_value(unit, v); }, true, m.margin.borderline});
  }
  return rows;
}

constexpr std::string_view spread_style = R"css(
svg.spread { display: block; width: 100%; height: auto; font-size: 11px; }
.spread .row-track { fill: #f6f8fa; }
.spread .row-label { fill: var(--ink); font-size: 11.5px; }
.spread .row-value { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
.spread .heading { fill: var(--ink); font-size: 12px; font-weight: 600; }
.spread .band { fill: #2f6fd6; opacity: 0.22; }
.spread .borderline .band { fill: var(--warn-line); opacity: 0.35; }
.spread .median { stroke: #0b2a6f; stroke-width: 2; }
.spread .run { fill: #2f6fd6; stroke: #fff; stroke-width: 1; }
.spread .target { stroke: var(--fail); stroke-width: 1.4; stroke-dasharray: 3 2; }
)css";

std::string outcome_class(const repeat_summary& s) {
  auto o = s.outcome();
  return o == "passed" ? "passed" : o == "failed" ? "failed" : "other";
}

std::string headline(const repeat_summary& s) {
  std::string out = fmt::format("passed {} of {}: {}", s.passed, s.runs, s.outcome());
  if (!s.flipped.empty()) {
    std::string names;
    for (const auto& n : s.flipped) names += (names.empty() ? "" : ", ") + n;
    out += " (flipped: " + names + ")";
  }
  return out;
}

}  // namespace

std::string render_spread_figure(const repeat_summary& summary) {
  auto figures = figure_rows(summary);
  auto margins = margin_rows(summary);
  if (figures.empty() && margins.empty()) return "";
  double height = 8;
  if (!figures.empty()) height += heading_height + row_height * static_cast<double>(figures.size());
  if (!margins.empty()) height += heading_height + row_height * static_cast<double>(margins.size());
  std::string out = fmt::format("<svg class=\"spread\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" "
                                "aria-label=\"spread of each figure over {} runs\">\n",
                                px(figure_width), px(height), summary.runs);
  double top = 4;
  auto section = [&](const std::string& title, const std::vector<spread_row>& rows, const char* name) {
    if (rows.empty()) return;
    out += fmt::format("<g class=\"spread-section\" data-section=\"{}\">\n<text class=\"heading\" x=\"4\" y=\"{}\">{}</text>\n", name,
                       px(top + 17), xml_escape(title));
    top += heading_height;
    for (const auto& r : rows) {
      draw_row(out, r, top);
      top += row_height;
    }
    out += "</g>\n";
  };
  section("Figures: each run a point, the median a line, the 95 % interval a band", figures, "figures");
  section("Margins to the targets (dashed: the target; right of it: met)", margins, "margins");
  out += "</svg>\n";
  return out;
}

std::string render_repeat_html(const repeat_summary& summary, const std::vector<std::string>& run_pages) {
  const auto cls = outcome_class(summary);
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{} · {} runs · faultline</title>\n<style>", xml_escape(summary.experiment), summary.runs);
  out += report_stylesheet();
  out += spread_style;
  out += "</style>\n</head>\n<body>\n<main>\n<header>\n<div class=\"brand\">faultline · repeated runs</div>\n";
  out += fmt::format("<h1>{}</h1>\n<div class=\"meta\"><span>{} runs, each from a clean start</span></div>\n</header>\n",
                     xml_escape(summary.experiment), summary.runs);
  out += fmt::format("<section class=\"card verdict {0}\" id=\"verdict\" data-outcome=\"{1}\" data-exit-code=\"{2}\">\n<span class=\"badge {0}\">{3}</span>\n<div>\n",
                     cls, xml_escape(summary.outcome()), summary.exit_code(),
                     cls == "passed" ? "✓ Passed" : cls == "failed" ? "✕ Failed" : summary.outcome() == "flaky" ? "! Flaky" : "! Incomplete");
  out += fmt::format("<p class=\"verdict-reason\">{}</p>\n<p class=\"verdict-sub\">exit code {}</p>\n", xml_escape(headline(summary)),
                     summary.exit_code());
  if (!summary.results.empty()) {
    out += "<div class=\"suite-bar\">";
    for (std::size_t i = 0; i < summary.results.size(); ++i) {
      const auto& r = summary.results[i];
      out += fmt::format("<span class=\"{}\" style=\"flex:1\" title=\"run {}: {}\"></span>", r == "passed" ? "passed" : r == "failed" ? "failed" : "other",
                         i + 1, xml_escape(r));
    }
    out += "</div>\n";
  }
  out += "</div>\n</section>\n";
  if (auto figure = render_spread_figure(summary); !figure.empty()) {
    out += "<section class=\"card\" id=\"spread\">\n<h2>Spread over the runs</h2>\n" + figure;
    out += "<p class=\"sub\" style=\"margin-top:8px\">Each run is a point; the line is the median; the band is the 95 % interval of the "
           "median (a bootstrap across the runs). A margin's band that crosses the target is borderline: the expectation is met in "
           "some runs' noise and missed in others'.</p>\n</section>\n";
  }
  out += "<section class=\"card\" id=\"figures\">\n<h2>Figures</h2>\n<table>\n<thead><tr><th>Figure</th><th class=\"num\">Median</th>"
         "<th class=\"num\">95 % interval</th><th class=\"num\">Runs</th></tr></thead>\n<tbody>\n";
  for (const auto& f : summary.figures) {
    std::string interval = f.interval ? fmt::format("{} .. {}", format_figure_value(f.name, f.interval->low), format_figure_value(f.name, f.interval->high)) : "—";
    out += fmt::format("<tr data-figure=\"{}\"><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                       xml_escape(f.name), xml_escape(f.name), xml_escape(format_figure_value(f.name, f.median)), xml_escape(interval),
                       f.values.size());
  }
  out += "</tbody>\n</table>\n</section>\n";
  if (!summary.margins.empty()) {
    out += "<section class=\"card\" id=\"margins\">\n<h2>Margins to the targets</h2>\n<table>\n<thead><tr><th>Expectation</th><th>Quantity</th>"
           "<th class=\"num\">Median margin [95 % interval]</th><th class=\"num\">Met</th><th></th></tr></thead>\n<tbody>\n";
    for (const auto& m : summary.margins)
      out += fmt::format("<tr data-expectation=\"{}\"{}><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{} of {}</td><td>{}</td></tr>\n",
                         xml_escape(m.expectation), m.margin.borderline ? " data-borderline=\"true\"" : "", xml_escape(m.expectation),
                         xml_escape(m.margin.quantity), xml_escape(format_margin(m.margin)), m.met, m.values.size(),
                         m.margin.borderline ? "<span class=\"pill other\">borderline</span>" : "");
    out += "</tbody>\n</table>\n</section>\n";
  }
  if (!run_pages.empty()) {
    out += "<section class=\"card\" id=\"runs\">\n<h2>Runs</h2>\n<ol>\n";
    for (const auto& page : run_pages) out += fmt::format("<li><a href=\"{0}\">{0}</a></li>\n", xml_escape(page));
    out += "</ol>\n</section>\n";
  }
  out += "<footer>Rendered by faultline · self-contained: no scripts, nothing fetched</footer>\n</main>\n</body>\n</html>\n";
  return out;
}

std::string render_repeat_markdown(const repeat_summary& summary) {
  auto cls = outcome_class(summary);
  std::string out = fmt::format("## {} {}: {}\n\n", cls == "passed" ? "✅" : cls == "failed" ? "❌" : "⚠️", markdown_cell(summary.experiment),
                                markdown_cell(headline(summary)));
  out += "| Figure | Median | 95 % interval | Runs |\n|---|---|---|---|\n";
  for (const auto& f : summary.figures)
    out += fmt::format("| {} | {} | {} | {} |\n", markdown_cell(f.name), format_figure_value(f.name, f.median),
                       f.interval ? format_figure_value(f.name, f.interval->low) + " .. " + format_figure_value(f.name, f.interval->high) : "—",
                       f.values.size());
  if (!summary.margins.empty()) {
    out += "\n| Expectation | Quantity | Median margin [95 % interval] | Met |\n|---|---|---|---|\n";
    for (const auto& m : summary.margins)
      out += fmt::format("| `{}` | {} | {} | {} of {} |\n", markdown_cell(m.expectation), markdown_cell(m.margin.quantity),
                         markdown_cell(format_margin(m.margin)), m.met, m.values.size());
  }
  return out + "\n";
}

nlohmann::json repeat_summary_json(const repeat_summary& summary) {
  nlohmann::json out;
  out["experiment"] = summary.experiment;
  out["runs"] = summary.runs;
  out["passed"] = summary.passed;
  out["outcome"] = summary.outcome();
  out["exit_code"] = summary.exit_code();
  out["flipped"] = summary.flipped;
  out["results"] = summary.results;
  out["figures"] = nlohmann::json::array();
  for (const auto& f : summary.figures) {
    nlohmann::json j{{"name", f.name}, {"values", f.values}, {"runs", f.runs}, {"median", f.median}};
    if (f.interval) j["interval"] = {f.interval->low, f.interval->high};
    out["figures"].push_back(std::move(j));
  }
  out["margins"] = nlohmann::json::array();
  for (const auto& m : summary.margins)
    out["margins"].push_back(
        {{"expectation", m.expectation}, {"met", m.met}, {"values", m.values}, {"runs", m.runs}, {"margin", to_json_value(m.margin)}});
  return out;
}

}  // namespace faultline::reports
