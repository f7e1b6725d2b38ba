#include "reports/charts.hpp"

#include "core/units.hpp"
#include "probes/resource_quantity.hpp"
#include "reports/format.hpp"
#include "reports/run_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

namespace faultline::reports {

std::vector<double> nice_ticks(double max, int at_most) {
  if (!(max > 0) || !std::isfinite(max)) return {0, 1};
  at_most = std::max(at_most, 1);
  double raw = max / at_most;
  double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * magnitude >= raw * (1 - 1e-9)) {
      step = m * magnitude;
      break;
    }
  }
  std::vector<double> ticks;
  for (int i = 0;; ++i) {
    double t = i * step;
    ticks.push_back(t);
    if (t >= max * (1 - 1e-9)) break;
  }
  return ticks;
}

std::vector<double> time_ticks(double end, int at_most) {
  static constexpr double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400};
  at_most = std::max(at_most, 1);
  double step = steps[std::size(steps) - 1];
  for (double s : steps) {
    if (end / s <= at_most) {
      step = s;
      break;
    }
  }
  std::vector<double> ticks;
  for (double t = 0; t <= end + 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

namespace {

constexpr double figure_width = 1000;
constexpr double plot_left = 92;
constexpr double plot_right = figure_width - 18;

std::string px(double v) { return fmt::format("{:.2f}", v); }

// Rough width of 11px text in the page's sans-serif font, for placing labels without overlap.
double text_width(std::string_view text, double font_px = 11) {
  return static_cast<double>(text.size()) * font_px * 0.56;
}

std::string truncate(std::string_view text, std::size_t chars) {
  if (text.size() <= chars) return std::string(text);
  return std::string(text.substr(0, chars - 1)) + "…";
}

struct value_line {
  std::string key;    // data-series and CSS class: p50, p95, p99, rps, error_rate
  std::string label;  // legend text
  std::vector<std::optional<double>> values;  // one per window of the primary series
  bool area = false;  // filled down to zero
};

struct panel_layout {
  std::string name;
  std::string title;
  double top = 0, bottom = 0;  // plot area, pixels
};

// The fault phase as the analysis uses it: first inject to last revert.
struct fault_span {
  std::optional<double> start;
  std::optional<double> end;
};

fault_span fault_phase_of(const journal& j) {
  fault_span span;
  if (const auto* p = find_phase(j, "fault")) {
    span.start = p->start;
    span.end = p->end;
    return span;
  }
  for (const auto& f : j.faults) {
    if (f.action) continue;
    if (f.injected_at && (!span.start || *f.injected_at < *span.start)) span.start = f.injected_at;
    if (f.reverted_at && (!span.end || *f.reverted_at > *span.end)) span.end = f.reverted_at;
  }
  return span;
}

// A resource probe's quantity series ("shop.rss"): drawn as a line in its chart's panel, not as a band.
bool is_quantity_series(const series_record& s) { return probes::split_quantity_series(s.name).has_value(); }

// One panel of a resource probe's quantities: its memory, its CPU, its connections.
struct resource_panel {
  std::string name;   // data-panel: "<chart>:<probe>"
  std::string title;
  probes::quantity_unit unit = probes::quantity_unit::count;
  std::vector<const series_record*> series;
};

// The resource panels, probe by probe, each chart once, only for quantities with values.
std::vector<resource_panel> resource_panels(const journal& j) {
  static constexpr std::pair<std::string_view, std::string_view> charts[] = {
      {"memory", "Memory"}, {"cpu", "CPU"}, {"connections", "TCP connections"}};
  std::vector<resource_panel> out;
  for (const auto& probe : j.series) {
    if (is_quantity_series(probe)) continue;
    for (const auto& [chart, title] : charts) {
      resource_panel panel{fmt::format("{}:{}", chart, probe.name), fmt::format("{} · {}", title, probe.name)};
      for (const auto& s : j.series) {
        auto q = probes::split_quantity_series(s.name);
        if (!q || q->probe != probe.name || q->what->chart != chart) continue;
        if (std::none_of(s.windows.begin(), s.windows.end(), [](const window_point& w) { return w.value.has_value(); })) continue;
        panel.unit = q->what->unit;
        panel.series.push_back(&s);
      }
      if (!panel.series.empty()) out.push_back(std::move(panel));
    }
  }
  return out;
}

std::string quantity_label(probes::quantity_unit unit, double v) {
  if (v == 0) return "0";
  switch (unit) {
    case probes::quantity_unit::bytes: return format_size(static_cast<std::int64_t>(std::llround(v)));
    case probes::quantity_unit::share: return format_percent(v);
    case probes::quantity_unit::seconds: return format_seconds(v);
    case probes::quantity_unit::count: return format_number(v, 1);
  }
  return format_number(v);
}

class figure_builder {
public:
  explicit figure_builder(const journal& j)
      : j_(j), primary_(primary_series(j)), phase_(fault_phase_of(j)), resources_(resource_panels(j)) {
    end_ = std::max(run_duration(j), j.window);
    ticks_ = time_ticks(end_, 10);
    x_ = linear_scale{0, end_, plot_left, plot_right};
  }

  std::string render() {
    if (!primary_) return "";
    layout();
    std::string body;
    draw_phase_ribbon(body);
    draw_fault_lanes(body);
    draw_latency(body);
    draw_throughput(body);
    draw_error_rate(body);
    draw_resources(body);
    draw_bands(body);
    draw_time_axis(body);
    draw_recovery_annotations(body);
    draw_hover_columns(body);
    return fmt::format(
        "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" "
        "aria-label=\"{}\" data-window=\"{}\" data-run-end=\"{}\">\n<title>{}</title>\n{}</svg>\n",
        figure_width, px(height_), xml_escape(aria_label()), j_.window, end_, xml_escape(aria_label()), body);
  }

private:
  std::string aria_label() const {
    return fmt::format("Timeline of {}: latency, throughput and error rate of {} over {}", j_.experiment.name,
                       primary_->name, format_seconds(end_));
  }

  double mid(const window_point& w) const { return w.start + j_.window / 2; }

  void layout() {
    double y = 4;
    ribbon_top_ = y;
    y += 20 + 6;
    lanes_top_ = y;
    y += static_cast<double>(j_.faults.size()) * 20 + (j_.faults.empty() ? 0 : 8);
    auto add_panel = [&](std::string name, std::string title, double h) {
      y += 22;  // title row
      panels_.push_back({std::move(name), std::move(title), y, y + h});
      y += h + 8;
    };
    add_panel("latency", "Latency · " + primary_->name, 180);
    add_panel("throughput", "Throughput · " + primary_->name, 90);
    add_panel("error_rate", "Error rate · " + primary_->name, 90);
    for (const auto& r : resources_) add_panel(r.name, r.title, 80);
    bands_top_ = y + 4;
    y = bands_top_;
    if (j_.analysis.breaker) y += 20;
    for (const auto& s : j_.series)
      if (&s != primary_ && !is_quantity_series(s)) y += 16;
    bands_bottom_ = y;
    axis_top_ = y + 2;
    y += 26;
    annotations_top_ = y;
    if (j_.analysis.mttd || j_.analysis.mttr || (phase_.end && !j_.analysis.recovered)) y += 30;
    height_ = y + 4;
  }

  // Decorations shared by every panel: phases, fault starts and ends, detection and recovery.
  void draw_backdrop(std::string& out, double top, double bottom) const {
    for (const auto& p : j_.phases) {
      if (!(p.end > p.start)) continue;
      out += fmt::format("<rect class=\"phase phase-{0}\" data-phase=\"{0}\" x=\"{1}\" y=\"{2}\" width=\"{3}\" height=\"{4}\"/>\n",
                         xml_escape(p.name), px(x_(p.start)), px(top), px(x_(p.end) - x_(p.start)), px(bottom - top));
    }
    for (const auto& f : j_.faults) {
      const char* kind = f.action ? "action" : "fault";
      if (f.injected_at)
        out += fmt::format("<line class=\"{0}-start\" data-step=\"{1}\" x1=\"{2}\" x2=\"{2}\" y1=\"{3}\" y2=\"{4}\"/>\n", kind,
                           xml_escape(f.step), px(x_(*f.injected_at)), px(top), px(bottom));
      if (f.reverted_at && !f.action)
        out += fmt::format("<line class=\"fault-end\" data-step=\"{0}\" x1=\"{1}\" x2=\"{1}\" y1=\"{2}\" y2=\"{3}\"/>\n",
                           xml_escape(f.step), px(x_(*f.reverted_at)), px(top), px(bottom));
    }
    if (phase_.start && j_.analysis.mttd)
      out += fmt::format("<line class=\"marker-detected\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>\n",
                         px(x_(*phase_.start + *j_.analysis.mttd)), px(top), px(bottom));
    if (phase_.end && j_.analysis.mttr)
      out += fmt::format("<line class=\"marker-recovered\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>\n",
                         px(x_(*phase_.end + *j_.analysis.mttr)), px(top), px(bottom));
  }

  void draw_phase_ribbon(std::string& out) const {
    out += "<g class=\"phase-ribbon\">\n";
    for (const auto& p : j_.phases) {
      if (!(p.end > p.start)) continue;
      double x0 = x_(p.start), x1 = x_(p.end);
      out += fmt::format("<rect class=\"ribbon phase-{0}\" data-phase=\"{0}\" x=\"{1}\" y=\"{2}\" width=\"{3}\" height=\"20\" rx=\"3\">"
                         "<title>{4}: {5} to {6} ({7})</title></rect>\n",
                         xml_escape(p.name), px(x0), px(ribbon_top_), px(x1 - x0), xml_escape(phase_label(p.name)),
                         format_seconds(p.start), format_seconds(p.end), format_seconds(p.end - p.start));
      auto label = phase_label(p.name);
      if (text_width(label) + 8 < x1 - x0)
        out += fmt::format("<text class=\"ribbon-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                           px((x0 + x1) / 2), px(ribbon_top_ + 14), xml_escape(label));
    }
    out += "</g>\n";
  }

  static std::string phase_label(std::string_view name) {
    if (name == "steady_before") return "steady state";
    return std::string(name);
  }

  void draw_fault_lanes(std::string& out) const {
    if (j_.faults.empty()) return;
    out += "<g class=\"fault-lanes\">\n";
    double y = lanes_top_;
    for (const auto& f : j_.faults) {
      std::string label = f.step + " · " + f.type + (f.target.empty() ? "" : " on " + f.target);
      std::string cls = f.action ? "action-bar" : "fault-bar";
      if (!f.error.empty()) cls += " failed";
      if (!f.injected_at) {
        out += fmt::format("<text class=\"lane-label muted\" x=\"{}\" y=\"{}\">{} (never injected)</text>\n", px(plot_left + 4),
                           px(y + 13), xml_escape(label));
        y += 20;
        continue;
      }
      double start = *f.injected_at;
      double end = f.reverted_at ? *f.reverted_at : end_;
      if (!f.reverted_at && !f.action) cls += " unreverted";
      double x0 = x_(start), x1 = std::max(x_(end), x0 + 3);
      out += fmt::format(
          "<rect class=\"{}\" data-step=\"{}\" data-start=\"{}\" data-end=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" rx=\"3\">"
          "<title>{}: {} to {}{}</title></rect>\n",
          cls, xml_escape(f.step), start, end, px(x0), px(y), px(x1 - x0), xml_escape(label), format_seconds(start),
          f.reverted_at ? format_seconds(end) : std::string("the end (never reverted)"),
          f.error.empty() ? "" : xml_escape(" — error: " + f.error));
      double w = text_width(label);
      if (w + 10 < x1 - x0)
        out += fmt::format("<text class=\"lane-label inside\" x=\"{}\" y=\"{}\">{}</text>\n", px(x0 + 6), px(y + 12), xml_escape(label));
      else if (x1 + 6 + w < plot_right)
        out += fmt::format("<text class=\"lane-label\" x=\"{}\" y=\"{}\">{}</text>\n", px(x1 + 6), px(y + 12), xml_escape(label));
      else
        out += fmt::format("<text class=\"lane-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", px(x0 - 6), px(y + 12),
                           xml_escape(label));
      y += 20;
    }
    out += "</g>\n";
  }

  const panel_layout& panel(std::string_view name) const {
    for (const auto& p : panels_)
      if (p.name == name) return p;
    return panels_.front();
  }

  void draw_panel(std::string& out, const panel_layout& p, const std::vector<value_line>& lines, double top_value,
                  const std::vector<double>& ticks, const std::function<std::string(double)>& label) const {
    linear_scale y{0, top_value, p.bottom, p.top};
    out += fmt::format(
        "<g class=\"panel\" data-panel=\"{}\" data-x-domain=\"0 {}\" data-x-range=\"{} {}\" data-y-domain=\"0 {}\" "
        "data-y-range=\"{} {}\">\n",
        p.name, end_, px(plot_left), px(plot_right), top_value, px(p.bottom), px(p.top));
    out += fmt::format("<rect class=\"plot\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", px(plot_left), px(p.top),
                       px(plot_right - plot_left), px(p.bottom - p.top));
    draw_backdrop(out, p.top, p.bottom);
    for (double t : ticks) {
      out += fmt::format("<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>\n", px(plot_left), px(plot_right), px(y(t)));
      out += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", px(plot_left - 6),
                         px(y(t) + 4), xml_escape(label(t)));
    }
    for (double t : ticks_)
      out += fmt::format("<line class=\"grid vertical\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>\n", px(x_(t)), px(p.top), px(p.bottom));
    out += fmt::format("<text class=\"panel-title\" x=\"{}\" y=\"{}\">{}</text>\n", px(plot_left), px(p.top - 8), xml_escape(p.title));
    // Legend, right-aligned on the title row.
    double lx = plot_right;
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      double w = text_width(it->label) + 22;
      lx -= w;
      out += fmt::format("<line class=\"legend line {0}\" x1=\"{1}\" x2=\"{2}\" y1=\"{3}\" y2=\"{3}\"/>", it->key, px(lx), px(lx + 14),
                         px(p.top - 12));
      out += fmt::format("<text class=\"legend-label\" x=\"{}\" y=\"{}\">{}</text>\n", px(lx + 18), px(p.top - 8), xml_escape(it->label));
    }
    for (const auto& line : lines) draw_line(out, line, y, p);
    out += "</g>\n";
  }

  void draw_line(std::string& out, const value_line& line, const linear_scale& y, const panel_layout& p) const {
    const auto& windows = primary_->windows;
    std::string d;
    std::vector<std::pair<double, double>> run;  // the current unbroken segment, pixels
    std::string area;
    auto flush = [&] {
      if (run.empty()) return;
      for (std::size_t i = 0; i < run.size(); ++i) d += fmt::format("{}{},{}", i == 0 ? "M" : "L", px(run[i].first), px(run[i].second));
      if (run.size() == 1)
        out += fmt::format("<circle class=\"dot {}\" cx=\"{}\" cy=\"{}\" r=\"2\"/>\n", line.key, px(run[0].first), px(run[0].second));
      if (line.area) {
        area += fmt::format("M{},{}", px(run.front().first), px(p.bottom));
        for (const auto& [xp, yp] : run) area += fmt::format("L{},{}", px(xp), px(yp));
        area += fmt::format("L{},{}Z", px(run.back().first), px(p.bottom));
      }
      run.clear();
    };
    for (std::size_t i = 0; i < windows.size() && i < line.values.size(); ++i) {
      if (!line.values[i]) {
        flush();
        continue;
      }
      run.emplace_back(x_(mid(windows[i])), y(std::min(*line.values[i], y.domain_max)));
    }
    flush();
    if (!area.empty()) out += fmt::format("<path class=\"area {}\" d=\"{}\"/>\n", line.key, area);
    out += fmt::format("<path class=\"line {0}\" data-series=\"{0}\" d=\"{1}\"/>\n", line.key, d);
  }

  void draw_latency(std::string& out) const {
    std::vector<value_line> lines{{"p50", "p50", {}}, {"p95", "p95", {}}, {"p99", "p99", {}}};
    double top = 0;
    for (const auto& w : primary_->windows) {
      lines[0].values.push_back(w.p50);
      lines[1].values.push_back(w.p95);
      lines[2].values.push_back(w.p99);
      for (const auto& v : {w.p50, w.p95, w.p99})
        if (v) top = std::max(top, *v);
    }
    auto ticks = nice_ticks(top > 0 ? top : 0.001, 4);
    draw_panel(out, panel("latency"), lines, ticks.back(), ticks, [](double v) { return v == 0 ? std::string("0") : format_seconds(v); });
  }

  void draw_throughput(std::string& out) const {
    value_line rps{"rps", "requests/s", {}, false};
    double top = 0;
    for (const auto& w : primary_->windows) {
      double v = static_cast<double>(w.count) / j_.window;
      rps.values.push_back(v);
      top = std::max(top, v);
    }
    auto ticks = nice_ticks(top > 0 ? top : 1, 3);
    draw_panel(out, panel("throughput"), {rps}, ticks.back(), ticks, [](double v) { return v == 0 ? std::string("0") : format_measured_rate(v); });
  }

  void draw_error_rate(std::string& out) const {
    value_line errors{"error_rate", "errors", {}, true};
    double top = 0;
    for (const auto& w : primary_->windows) {
      if (w.count == 0) {
        errors.values.push_back(std::nullopt);
        continue;
      }
      double v = static_cast<double>(w.errors) / static_cast<double>(w.count);
      errors.values.push_back(v);
      top = std::max(top, v);
    }
    // At least 1% tall, so a clean run shows a flat line at zero rather than a full-height axis.
    auto ticks = nice_ticks(std::min(std::max(top, 0.01), 1.0), 3);
    draw_panel(out, panel("error_rate"), {errors}, ticks.back(), ticks, [](double v) { return format_percent(v); });
  }

  // Under the load's panels: each resource probe's memory, CPU and connections, one line per
  // quantity, each window's last value.
  void draw_resources(std::string& out) const {
    for (const auto& r : resources_) {
      std::vector<value_line> lines;
      double top = 0;
      for (const auto* s : r.series) {
        const auto key = std::string(probes::split_quantity_series(s->name)->what->name);
        value_line line{key, key, {}};
        for (const auto& w : s->windows) {
          line.values.push_back(w.value);
          if (w.value) top = std::max(top, *w.value);
        }
        lines.push_back(std::move(line));
      }
      auto ticks = nice_ticks(top > 0 ? top : 1, 3);
      const auto unit = r.unit;
      draw_panel(out, panel(r.name), lines, ticks.back(), ticks, [unit](double v) { return quantity_label(unit, v); });
    }
  }

  void band_label(std::string& out, double y, double h, std::string_view name) const {
    out += fmt::format("<text class=\"band-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}<title>{}</title></text>\n", px(plot_left - 6),
                       px(y + h / 2 + 4), xml_escape(truncate(name, 14)), xml_escape(name));
  }

  void draw_bands(std::string& out) const {
    double y = bands_top_;
    if (j_.analysis.breaker) {
      const auto& b = *j_.analysis.breaker;
      out += fmt::format("<g class=\"band\" data-band=\"breaker\" data-source=\"{}\">\n", xml_escape(b.source));
      band_label(out, y, 16, "breaker state");
      std::string state = b.transitions.empty() ? "closed" : b.transitions.front().from;
      double from = 0, from_resolution = 0;
      // Each state from the transition into it to the next one; a half-open trial of a few
      // milliseconds still gets a visible sliver.
      auto segment = [&](double to) {
        if (!(to > from)) return;
        double x0 = x_(from), x1 = std::max(x_(to), x0 + 1.5);
        out += fmt::format(
            "<rect class=\"breaker-{0}\" data-state=\"{0}\" data-start=\"{1}\" data-end=\"{2}\" x=\"{3}\" y=\"{4}\" width=\"{5}\" "
            "height=\"16\"><title>breaker {6} from {7} to {8} ({9} long)</title></rect>\n",
            xml_escape(state), from, to, px(x0), px(y), px(x1 - x0), xml_escape(breaker_state_label(state)),
            format_seconds_within(from, from_resolution), format_seconds(to), format_seconds(to - from));
        auto label = breaker_state_label(state);
        if (text_width(label, 10) + 6 < x1 - x0)
          out += fmt::format("<text class=\"band-text\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px((x0 + x1) / 2),
                             px(y + 12), xml_escape(label));
      };
      for (const auto& t : b.transitions) {
        segment(t.at);
        from = t.at;
        from_resolution = t.resolution.value_or(0);
        state = t.to;
      }
      segment(end_);
      out += "</g>\n";
      y += 20;
    }
    for (const auto& s : j_.series) {
      if (&s == primary_ || is_quantity_series(s)) continue;
      out += fmt::format("<g class=\"band\" data-band=\"probe\" data-series=\"{}\">\n", xml_escape(s.name));
      band_label(out, y, 12, s.name);
      std::size_t i = 0;
      while (i < s.windows.size()) {
        auto state = probe_state(s.windows[i]);
        std::size_t k = i;
        std::uint64_t count = 0, errors = 0;
        while (k < s.windows.size() && probe_state(s.windows[k]) == state) {
          count += s.windows[k].count;
          errors += s.windows[k].errors;
          ++k;
        }
        double t0 = s.windows[i].start, t1 = s.windows[k - 1].start + j_.window;
        out += fmt::format(
            "<rect class=\"probe-{0}\" data-state=\"{0}\" x=\"{1}\" y=\"{2}\" width=\"{3}\" height=\"12\"><title>{4}: {0} from {5} to {6} "
            "({7} of {8} checks failed)</title></rect>\n",
            state, px(x_(t0)), px(y), px(x_(t1) - x_(t0)), xml_escape(s.name), format_seconds(t0), format_seconds(t1), errors, count);
        i = k;
      }
      out += "</g>\n";
      y += 16;
    }
  }

  static std::string breaker_state_label(std::string_view state) {
    if (state == "half_open") return "half-open";
    return std::string(state);
  }

  static const char* probe_state(const window_point& w) {
    if (w.count == 0) return "idle";
    if (w.errors == 0) return "ok";
    if (w.errors >= w.count) return "failing";
    return "degraded";
  }

  void draw_time_axis(std::string& out) const {
    out += "<g class=\"time-axis\">\n";
    out += fmt::format("<line class=\"axis\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>\n", px(plot_left), px(plot_right), px(axis_top_));
    for (double t : ticks_) {
      out += fmt::format("<line class=\"axis\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>\n", px(x_(t)), px(axis_top_), px(axis_top_ + 4));
      out += fmt::format("<text class=\"tick\" data-t=\"{}\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", t, px(x_(t)),
                         px(axis_top_ + 16), t == 0 ? std::string("0s") : format_seconds(t));
    }
    out += "</g>\n";
  }

  // MTTD from the first inject to detection, MTTR from the last revert to recovery, as brackets
  // on the time axis (a run that never recovered gets an open, dashed one to the end).
  void draw_recovery_annotations(std::string& out) const {
    double y = annotations_top_ + 8;
    auto bracket = [&](const char* cls, double from, double to, const std::string& label, bool open) {
      double x0 = x_(from), x1 = x_(to);
      out += fmt::format("<g class=\"annotation {}\" data-from=\"{}\" data-to=\"{}\">\n", cls, from, to);
      out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"{3}/>\n", px(x0), px(x1), px(y), open ? " stroke-dasharray=\"4 3\"" : "");
      out += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>\n", px(x0), px(y - 5), px(y + 5));
      if (!open) out += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>\n", px(x1), px(y - 5), px(y + 5));
      double w = text_width(label, 11);
      double lx = (x0 + x1) / 2;
      const char* anchor = "middle";
      if (w + 8 > x1 - x0) {  // too narrow to sit under the bracket: beside it
        lx = x1 + 6 + w < plot_right ? x1 + 6 : x0 - 6;
        anchor = x1 + 6 + w < plot_right ? "start" : "end";
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>\n", px(lx), px(y + 4), anchor, xml_escape(label));
      } else {
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>\n", px(lx), px(y + 17), anchor, xml_escape(label));
      }
      out += "</g>\n";
    };
    if (phase_.start && j_.analysis.mttd)
      bracket("mttd", *phase_.start, *phase_.start + *j_.analysis.mttd, "MTTD " + format_seconds(*j_.analysis.mttd), false);
    if (phase_.end && j_.analysis.mttr)
      bracket("mttr", *phase_.end, *phase_.end + *j_.analysis.mttr, "MTTR " + format_seconds(*j_.analysis.mttr), false);
    else if (phase_.end && !j_.analysis.recovered)
      bracket("mttr not-recovered", *phase_.end, end_, "not recovered", true);
  }

  // Transparent columns over every window: hovering one shows its numbers (no script needed).
  void draw_hover_columns(std::string& out) const {
    const auto& windows = primary_->windows;
    if (windows.size() > 1800) return;  // beyond this the columns are thinner than a pixel
    double top = panels_.front().top, bottom = std::max(bands_bottom_, panels_.back().bottom);
    out += "<g class=\"hover-columns\">\n";
    for (const auto& w : windows) {
      double x0 = x_(w.start), x1 = x_(w.start + j_.window);
      std::string text = fmt::format("{}–{}: {} requests", format_seconds(w.start), format_seconds(w.start + j_.window), w.count);
      if (w.p50) text += fmt::format(", p50 {}, p95 {}, p99 {}", format_seconds(w.p50), format_seconds(w.p95), format_seconds(w.p99));
      if (w.count > 0)
        text += fmt::format(", errors {} ({})", w.errors, format_percent(static_cast<double>(w.errors) / static_cast<double>(w.count)));
      out += fmt::format("<rect class=\"hover\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>\n", px(x0), px(top),
                         px(x1 - x0), px(bottom - top), xml_escape(text));
    }
    out += "</g>\n";
  }

  const journal& j_;
  const series_record* primary_;
  fault_span phase_;
  std::vector<resource_panel> resources_;
  double end_ = 1;
  std::vector<double> ticks_;
  linear_scale x_;
  std::vector<panel_layout> panels_;
  double ribbon_top_ = 0, lanes_top_ = 0, bands_top_ = 0, bands_bottom_ = 0, axis_top_ = 0, annotations_top_ = 0, height_ = 0;
};

}  // namespace

std::string render_timeline_figure(const journal& j) { return figure_builder(j).render(); }

}  // namespace faultline::reports
