#include "faults/userspace/impairment.hpp"

#include "faults/netem/distribution_table.hpp"
#include "faults/netem/netem_messages.hpp"

#include <algorithm>

namespace faultline::faults::userspace {
namespace {

using std::chrono::nanoseconds;

// A uniform 0..UINT32_MAX draw compared with a netem threshold (p scaled to 0..UINT32_MAX).
bool below(std::mt19937& rng, std::uint32_t threshold) { return rng() < threshold; }

}  // namespace

correlated_random::correlated_random(double correlation) {
  if (auto scaled = network::netem_probability(correlation); scaled != 0) rho_ = std::uint64_t{scaled} + 1;
}

std::uint32_t correlated_random::next(std::mt19937& rng) {
  const std::uint64_t value = rng();
  if (rho_ == 0) return static_cast<std::uint32_t>(value);
  last_ = static_cast<std::uint32_t>((value * ((std::uint64_t{1} << 32) - rho_) + std::uint64_t{last_} * rho_) >> 32);
  return last_;
}

correlated_chance::correlated_chance(const network::chance& c)
    : threshold_(network::netem_probability(c.value)), random_(c.correlation) {}

bool correlated_chance::happens(std::mt19937& rng) {
  // netem draws the random number even when p is 0 only if p is set; a 0 threshold never fires.
  return threshold_ != 0 && threshold_ >= random_.next(rng);
}

impairment_model::impairment_model(const network::network_spec& spec, std::vector<std::int16_t> distribution,
                                   std::uint32_t seed)
    : rng_(seed),
      delay_(spec.delay),
      jitter_(spec.jitter),
      table_(std::move(distribution)),
      delay_random_(spec.delay_correlation),
      gilbert_(spec.loss_model) {
  if (spec.loss) loss_.emplace(*spec.loss);
  if (spec.duplicate) duplicate_.emplace(*spec.duplicate);
  if (spec.corrupt) corrupt_.emplace(*spec.corrupt);
  if (spec.reorder) {
    reorder_.emplace(*spec.reorder);
    gap_ = std::max<std::uint32_t>(spec.gap, 1);  // as tc does: reorder without gap reorders by chance alone
  }
}

nanoseconds impairment_model::table_delay(nanoseconds mu, nanoseconds sigma, std::span<const std::int16_t> table,
                                          std::uint32_t random) {
  const std::int64_t s = sigma.count();
  if (s <= 0) return mu;
  if (table.empty()) {
    // netem: ((rnd % (2 * sigma)) + mu) - sigma; for a sigma beyond 32 bits, the draw is scaled.
    const std::uint64_t span = 2 * static_cast<std::uint64_t>(s);
    const std::uint64_t offset = span <= (std::uint64_t{1} << 32)
                                     ? random % span
                                     : static_cast<std::uint64_t>(static_cast<double>(random) / 4294967296.0 * static_cast<double>(span));
    return nanoseconds(static_cast<std::int64_t>(offset) + mu.count() - s);
  }
  const std::int64_t t = table[random % table.size()];
  constexpr std::int64_t scale = network::distribution_scale;
  std::int64_t x = (s % scale) * t;
  x += x >= 0 ? scale / 2 : -scale / 2;
  return nanoseconds(x / scale + (s / scale) * t + mu.count());
}

bool impairment_model::lost() {
  if (loss_) return loss_->happens(rng_);
  if (!gilbert_) return false;
  // netem's loss_gilb_ell(): move between the states, then lose with the chance of the state the
  // packet arrived in.
  const auto& ge = *gilbert_;
  if (!bad_state_) {
    if (below(rng_, network::netem_probability(ge.p))) bad_state_ = true;
    return below(rng_, network::netem_probability(ge.loss_good));
  }
  if (below(rng_, network::netem_probability(ge.r))) bad_state_ = false;
  return below(rng_, network::netem_probability(ge.loss_bad));
}

send_plan impairment_model::plan_one() {
  send_plan plan;
  if (corrupt_) plan.corrupt = corrupt_->happens(rng_);
  // netem: delay unless this is the gap-th packet and the reorder chance fires.
  if (gap_ == 0 || counter_ + 1 < gap_ || !reorder_->happens(rng_)) {
    plan.delay = std::max(nanoseconds{0}, table_delay(delay_, jitter_, table_, delay_random_.next(rng_)));
    ++counter_;
  } else {
    plan.reordered = true;
    counter_ = 0;
  }
  return plan;
}

packet_fate impairment_model::decide() {
  packet_fate fate;
  // netem_enqueue()'s order: duplicate?, lost? (a lost duplicate still sends one), the copy goes
  // through the same decisions but is never duplicated again, then the original's corruption and
  // delay.
  int count = 1;
  if (duplicate_ && duplicate_->happens(rng_)) ++count;
  if (lost()) --count;
  if (count == 0) return fate;
  if (count == 2 && !lost()) fate.copy = plan_one();
  fate.original = plan_one();
  return fate;
}

std::pair<std::size_t, int> impairment_model::corrupt_position(std::size_t length) {
  std::uniform_int_distribution<std::size_t> byte(0, length - 1);
  std::uniform_int_distribution<int> bit(0, 7);
  const auto b = byte(rng_);
  return {b, bit(rng_)};
}

}  // namespace faultline::faults::userspace
