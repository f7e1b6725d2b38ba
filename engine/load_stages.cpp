#include "engine/load_stages.hpp"

#include "core/units.hpp"

#include <fmt/format.h>

#include <sstream>

namespace faultline::engine {
namespace {

std::vector<std::string> words(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

probes::load_stage parse_one(const std::string& text, double previous_rate, std::chrono::nanoseconds think_time) {
  const auto bad = [&](const std::string& why) {
    return unit_error(fmt::format("stage '{}': {} (write e.g. \"100/s for 10s\", \"ramp to 1000/s over 30s\" or "
                                  "\"500 users for 30s\")", text, why));
  };
  auto w = words(text);
  probes::load_stage s;
  try {
    if (!w.empty() && w[0] == "ramp") {
      // ramp [FROM] to TO over D
      std::size_t i = 1;
      double from = previous_rate;
      if (i < w.size() && w[i] != "to") from = parse_rate(w[i++]);
      if (i >= w.size() || w[i] != "to") throw bad("a ramp needs 'to <rate>'");
      if (++i >= w.size()) throw bad("a ramp needs a target rate after 'to'");
      double to = parse_rate(w[i++]);
      if (i >= w.size() || w[i] != "over" || i + 2 != w.size()) throw bad("a ramp needs 'over <duration>' at the end");
      s.rate_from = from;
      s.rate_to = to;
      s.duration = parse_duration(w[i + 1]);
      if (s.duration.count() == 0) throw bad("a ramp must last longer than 0s");
      return s;
    }
    if (w.size() >= 2 && (w[1] == "users" || w[1] == "user")) {
      s.kind = probes::load_stage::model::closed;
      s.users = parse_integer(w[0]);
      if (s.users < 1) throw bad("a closed stage needs at least 1 user");
      s.think_time = think_time;
      if (w.size() == 4 && w[2] == "for") s.duration = parse_duration(w[3]);
      else if (w.size() != 2) throw bad("expected '<N> users for <duration>'");
      return s;
    }
    if (w.empty()) throw bad("the stage is empty");
    s.rate_from = s.rate_to = parse_rate(w[0]);
    if (w.size() == 3 && w[1] == "for") s.duration = parse_duration(w[2]);
    else if (w.size() != 1) throw bad("expected '<rate> for <duration>'");
    return s;
  } catch (const unit_error& e) {
    if (std::string_view(e.what()).starts_with("stage '")) throw;
    throw bad(e.what());
  }
}

}  // namespace

probes::load_shape parse_load_stages(const std::vector<std::string>& stages, std::chrono::nanoseconds think_time) {
  probes::load_shape shape;
  double previous = 0;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    auto s = parse_one(stages[i], previous, think_time);
    if (s.duration.count() == 0 && i + 1 != stages.size())
      throw unit_error(fmt::format("stage '{}' has no duration but is not the last; add 'for <duration>'", stages[i]));
    previous = s.rate_to;
    shape.push_back(s);
  }
  return shape;
}

}  // namespace faultline::engine
