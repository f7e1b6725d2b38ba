#pragma once
// Reads the report's SVG back for tests: element attributes, a panel's scales, a line's points
// mapped from pixels back to (seconds, value), so a test can check a chart against the journal.

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace faultline::test {

// Attributes of one start tag: `<rect class="x" y="1">` -> {class: x, y: 1}.
std::map<std::string, std::string> attributes_of(const std::string& tag);

// Every start tag `<NAME ...>` in `text` whose attributes include all of `with`.
std::vector<std::string> find_tags(const std::string& text, const std::string& name,
                                   const std::map<std::string, std::string>& with = {});

double number_attr(const std::string& tag, const std::string& name);

struct panel_scales {
  double t0 = 0, t1 = 1, x0 = 0, x1 = 1;  // seconds -> pixels
  double v0 = 0, v1 = 1, y0 = 0, y1 = 1;  // values -> pixels
  double time_at(double x) const { return t0 + (x - x0) * (t1 - t0) / (x1 - x0); }
  double value_at(double y) const { return v0 + (y - y0) * (v1 - v0) / (y1 - y0); }
  double x_of(double t) const { return x0 + (t - t0) * (x1 - x0) / (t1 - t0); }
};

// The panel `<g class="panel" data-panel=NAME>`: its scales and its markup up to its end.
panel_scales panel_scales_of(const std::string& svg, const std::string& name);
std::string panel_markup(const std::string& svg, const std::string& name);

// The unbroken runs of a line (`<path data-series=NAME d="M..L..">`), in data units (seconds, value).
std::vector<std::vector<std::pair<double, double>>> line_points(const std::string& panel, const panel_scales& scales,
                                                                const std::string& series);

}  // namespace faultline::test
