#include "examples/shop/retry_policy.hpp"

#include <algorithm>

namespace faultline::shop {

std::chrono::nanoseconds retry_policy::delay_after(int attempt, std::mt19937_64& random) const {
  auto ceiling = backoff;
  for (int i = 1; i < attempt && ceiling < max_backoff; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, max_backoff);
  if (ceiling.count() <= 1) return ceiling;
  std::uniform_int_distribution<std::chrono::nanoseconds::rep> spread(ceiling.count() / 2, ceiling.count());
  return std::chrono::nanoseconds(spread(random));
}

}  // namespace faultline::shop
