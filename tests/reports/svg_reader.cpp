#include "tests/reports/svg_reader.hpp"

#include <regex>
#include <sstream>
#include <stdexcept>

namespace faultline::test {

std::map<std::string, std::string> attributes_of(const std::string& tag) {
  static const std::regex attr(R"re(([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)")re");
  std::map<std::string, std::string> out;
  for (auto it = std::sregex_iterator(tag.begin(), tag.end(), attr); it != std::sregex_iterator(); ++it)
    out[(*it)[1].str()] = (*it)[2].str();
  return out;
}

std::vector<std::string> find_tags(const std::string& text, const std::string& name, const std::map<std::string, std::string>& with) {
  std::vector<std::string> out;
  std::string open = "<" + name + " ";
  for (auto pos = text.find(open); pos != std::string::npos; pos = text.find(open, pos + 1)) {
    auto end = text.find('>', pos);
    if (end == std::string::npos) break;
    auto tag = text.substr(pos, end - pos + 1);
    auto attrs = attributes_of(tag);
    bool match = true;
    for (const auto& [k, v] : with) {
      auto it = attrs.find(k);
      if (it == attrs.end() || it->second != v) match = false;
    }
    if (match) out.push_back(tag);
  }
  return out;
}

double number_attr(const std::string& tag, const std::string& name) {
  auto attrs = attributes_of(tag);
  auto it = attrs.find(name);
  if (it == attrs.end()) throw std::runtime_error("no attribute " + name + " in " + tag);
  return std::stod(it->second);
}

namespace {

std::pair<double, double> pair_of(const std::string& text) {
  std::istringstream in(text);
  double a = 0, b = 0;
  in >> a >> b;
  return {a, b};
}

}  // namespace

panel_scales panel_scales_of(const std::string& svg, const std::string& name) {
  auto tags = find_tags(svg, "g", {{"class", "panel"}, {"data-panel", name}});
  if (tags.size() != 1) throw std::runtime_error("expected one panel " + name);
  auto a = attributes_of(tags.front());
  panel_scales s;
  std::tie(s.t0, s.t1) = pair_of(a.at("data-x-domain"));
  std::tie(s.x0, s.x1) = pair_of(a.at("data-x-range"));
  std::tie(s.v0, s.v1) = pair_of(a.at("data-y-domain"));
  std::tie(s.y0, s.y1) = pair_of(a.at("data-y-range"));
  return s;
}

std::string panel_markup(const std::string& svg, const std::string& name) {
  auto start = svg.find("<g class=\"panel\" data-panel=\"" + name + "\"");
  if (start == std::string::npos) throw std::runtime_error("no panel " + name);
  auto end = svg.find("</g>", start);
  return svg.substr(start, end - start);
}

std::vector<std::vector<std::pair<double, double>>> line_points(const std::string& panel, const panel_scales& scales,
                                                                const std::string& series) {
  auto paths = find_tags(panel, "path", {{"data-series", series}});
  if (paths.size() != 1) throw std::runtime_error("expected one line " + series);
  auto d = attributes_of(paths.front()).at("d");
  static const std::regex command(R"(([ML])(-?[0-9.]+),(-?[0-9.]+))");
  std::vector<std::vector<std::pair<double, double>>> runs;
  for (auto it = std::sregex_iterator(d.begin(), d.end(), command); it != std::sregex_iterator(); ++it) {
    if ((*it)[1] == "M") runs.emplace_back();
    runs.back().emplace_back(scales.time_at(std::stod((*it)[2])), scales.value_at(std::stod((*it)[3])));
  }
  return runs;
}

}  // namespace faultline::test
