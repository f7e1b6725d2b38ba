#pragma once
// Bounded retries with exponential backoff and jitter: attempt n waits about backoff * 2^(n-1),
// never more than max_backoff, drawn from the upper half so retries from many requests spread.

#include <chrono>
#include <random>

namespace faultline::shop {

struct retry_policy {
  int attempts = 1;  // total tries, the first included
  std::chrono::nanoseconds backoff = std::chrono::milliseconds(20);
  std::chrono::nanoseconds max_backoff = std::chrono::milliseconds(200);

  // The pause before try `attempt` + 1, after try `attempt` (1-based) failed.
  std::chrono::nanoseconds delay_after(int attempt, std::mt19937_64& random) const;
};

}  // namespace faultline::shop
