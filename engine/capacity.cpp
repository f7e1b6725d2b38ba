#include "engine/capacity.hpp"

#include <algorithm>
#include <cmath>

namespace faultline::engine {

const param_schema& capacity_search_params() {
  using namespace std::chrono_literals;
  static const param_schema schema{
      {"from", param_kind::rate, "the first trial's rate", 100.0, false, 0.01},
      {"up_to", param_kind::rate, "no trial above this rate", 20000.0, false, 0.01},
      {"factor", param_kind::number, "each step up multiplies the rate by this", 2.0, false, 1.05, 100},
      {"precision", param_kind::fraction, "bisect until the last rate that held is this close to the first that broke",
       0.05, false, 0.001, 0.5},
      {"trial", param_kind::duration, "how long each rate is held", std::chrono::nanoseconds(10s), false, 1e8},
      {"warmup", param_kind::duration, "the start of each trial that is not judged", std::chrono::nanoseconds(2s), false, 0.0},
      {"cooldown", param_kind::duration, "idle time between trials (the system drains its queues)",
       std::chrono::nanoseconds(2s), false, 0.0},
      {"time_limit", param_kind::duration, "the longest one search may take (healthy, and again under fault)",
       std::chrono::nanoseconds(5min), false, 1e9},
      {"require", param_kind::text_list, "rules judged in each trial (default: steady_state.require)"},
  };
  return schema;
}

capacity_search_spec capacity_search_from(const params& p) {
  capacity_search_spec s;
  if (p.has("from")) s.from = p.number("from");
  if (p.has("up_to")) s.up_to = p.number("up_to");
  if (p.has("factor")) s.factor = p.number("factor");
  if (p.has("precision")) s.precision = p.number("precision");
  if (p.has("trial")) s.trial = p.duration("trial");
  if (p.has("warmup")) s.warmup = p.duration("warmup");
  if (p.has("cooldown")) s.cooldown = p.duration("cooldown");
  if (p.has("time_limit")) s.time_limit = p.duration("time_limit");
  if (s.up_to < s.from) throw param_error("up_to", "up_to must be at least from");
  if (s.warmup >= s.trial) throw param_error("warmup", "the warmup must be shorter than the trial, or nothing is judged");
  if (s.time_limit < s.trial) throw param_error("time_limit", "the time limit must leave room for at least one trial");
  return s;
}

capacity_search::capacity_search(const capacity_search_spec& spec) : spec_(spec) {}

std::optional<double> capacity_search::next() const {
  if (stopped_) return std::nullopt;
  if (trials_.empty()) return std::min(spec_.from, spec_.up_to);
  if (!broke_) {
    if (*held_ >= spec_.up_to) return std::nullopt;
    return std::min(*held_ * spec_.factor, spec_.up_to);
  }
  if (!held_) {
    // Even the first rate broke: step down until one holds, but not forever.
    const double lower = *broke_ / spec_.factor;
    if (lower < spec_.from / 64) return std::nullopt;
    return lower;
  }
  if (*broke_ - *held_ <= spec_.precision * *broke_) return std::nullopt;
  return (*held_ + *broke_) / 2;
}

void capacity_search::record(const capacity_trial& trial) {
  trials_.push_back(trial);
  const double r = trial.rate;
  if (trial.held) {
    held_ = std::max(held_.value_or(0.0), r);
    if (broke_ && r >= *broke_) broke_.reset();  // a noisy earlier trial: search above again
  } else {
    broke_ = std::min(broke_.value_or(r), r);
    if (held_ && r <= *held_) {
      held_.reset();
      for (const auto& t : trials_)
        if (t.held && t.rate < r) held_ = std::max(held_.value_or(0.0), t.rate);
    }
  }
}

int capacity_search::trials_left_at_most() const {
  if (!next()) return 0;
  const auto bisections = [&](double low, double high) {
    if (high <= 0) return 0;
    const double width = (high - low) / (spec_.precision * high);
    return width <= 1 ? 0 : static_cast<int>(std::ceil(std::log2(width)));
  };
  if (!broke_) {
    const double from = held_.value_or(spec_.from / spec_.factor);
    const int up = static_cast<int>(std::ceil(std::log(spec_.up_to / from) / std::log(spec_.factor) - 1e-9));
    return std::max(1, up) + bisections(1 / spec_.factor, 1);
  }
  if (!held_) return static_cast<int>(std::ceil(std::log(64.0) / std::log(spec_.factor))) + bisections(1 / spec_.factor, 1);
  return std::max(1, bisections(*held_, *broke_));
}

capacity_result capacity_search::result() const {
  capacity_result r;
  r.trials = trials_;
  r.capacity = held_.value_or(0.0);
  r.broke_at = broke_;
  r.at_limit = held_ && *held_ >= spec_.up_to;
  r.out_of_time = out_of_time_;
  r.knee = knee_of(trials_);
  return r;
}

std::optional<double> knee_of(const std::vector<capacity_trial>& trials) {
  std::vector<std::pair<double, double>> points;  // rate, p99
  for (const auto& t : trials)
    if (t.p99) points.emplace_back(t.rate, *t.p99);
  if (points.size() < 3) return std::nullopt;
  std::sort(points.begin(), points.end());
  const auto [x0, y_first] = points.front();
  const double x1 = points.back().first;
  double y0 = y_first, y1 = y_first;
  for (const auto& p : points) {
    y0 = std::min(y0, p.second);
    y1 = std::max(y1, p.second);
  }
  if (x1 <= x0 || y1 <= y0) return std::nullopt;
  std::optional<double> knee;
  double best = 0.1;
  for (const auto& [x, y] : points) {
    const double below = (x - x0) / (x1 - x0) - (y - y0) / (y1 - y0);
    if (below > best) {
      best = below;
      knee = x;
    }
  }
  return knee;
}

}  // namespace faultline::engine
