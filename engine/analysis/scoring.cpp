#include "engine/analysis/scoring.hpp"

#include <algorithm>
#include <chrono>

namespace faultline::engine {

double grade_at_most(double measured, double target) {
  if (measured <= target) return 1;
  if (target <= 0) return 0;
  return std::clamp(1.0 - (measured - target) / target, 0.0, 1.0);
}

double grade_at_least(double measured, double target) {
  if (measured >= target) return 1;
  if (target <= 0) return 0;
  return std::clamp(measured / target, 0.0, 1.0);
}

double grade_availability(double measured, double target) {
  if (measured >= target) return 1;
  const double budget = 1.0 - target;
  if (budget <= 0) return 0;
  return std::clamp(1.0 - ((1.0 - measured) - budget) / budget, 0.0, 1.0);
}

double grade_tier(sla_tier achieved, sla_tier target) {
  const auto rank = [](sla_tier t) { return static_cast<double>(static_cast<int>(t)); };
  if (rank(target) <= 0) return 1;
  return std::clamp(rank(achieved) / rank(target), 0.0, 1.0);
}

sla_tier achieved_tier(double availability, double p95_seconds) {
  for (auto tier : {sla_tier::platinum, sla_tier::gold, sla_tier::silver, sla_tier::bronze}) {
    auto t = sla_target_of(tier);
    if (availability >= t.availability && p95_seconds <= std::chrono::duration<double>(t.p95).count()) return tier;
  }
  return sla_tier::none;
}

std::vector<reports::tier_bound> sla_tier_bounds() {
  std::vector<reports::tier_bound> out;
  for (auto tier : {sla_tier::bronze, sla_tier::silver, sla_tier::gold, sla_tier::platinum}) {
    auto t = sla_target_of(tier);
    out.push_back({to_string(tier), t.availability, std::chrono::duration<double>(t.p95).count()});
  }
  return out;
}

double resilience_score(const std::vector<reports::expectation_record>& expectations) {
  double weighted = 0;
  double total = 0;
  for (const auto& e : expectations) {
    weighted += e.weight * e.grade;
    total += e.weight;
  }
  return total > 0 ? 100.0 * weighted / total : 100.0;
}

}  // namespace faultline::engine
