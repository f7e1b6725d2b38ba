#pragma once
// How far an expectation was met (a grade from 0 to 1), the SLA tier achieved, and the resilience
// score: the weighted mean of the grades, times 100. docs/analysis.md gives the formulas.

#include "engine/experiment.hpp"
#include "reports/journal.hpp"
#include "reports/margins.hpp"

#include <vector>

namespace faultline::engine {

// Weights of each kind of expectation in the score.
struct score_weights {
  static constexpr double sla = 3;
  static constexpr double mttr = 2;
  static constexpr double recovered = 2;  // implicit when steady-state rules exist and no mttr target
  static constexpr double breaker = 1;    // each of opens_within, closes_within, max_flaps
  static constexpr double mttd = 1;
  static constexpr double rule = 1;       // each during_fault rule
  static constexpr double steady_after = 1;
};

// Upper bound (measured should be <= target): 1 when met, falling linearly to 0 at twice the target.
double grade_at_most(double measured, double target);
// Lower bound (measured should be >= target): the achieved share of the target.
double grade_at_least(double measured, double target);
// Lower bound on a fraction near 1 (availability): judged by the error budget 1 - target; 1 when
// within budget, 0 at twice the budget.
double grade_availability(double measured, double target);
// The achieved tier's rank over the target tier's rank (bronze 1 .. platinum 4).
double grade_tier(sla_tier achieved, sla_tier target);

// The highest tier whose availability and p95 both hold.
sla_tier achieved_tier(double availability, double p95_seconds);
// The tier table as the reports compare against it, lowest first.
std::vector<reports::tier_bound> sla_tier_bounds();

// 100 * sum(weight * grade) / sum(weight); 100 when nothing is weighted.
double resilience_score(const std::vector<reports::expectation_record>& expectations);

}  // namespace faultline::engine
