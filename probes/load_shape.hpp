#pragma once
// The shape of generated load over time: open-model stages (a constant or ramping arrival rate)
// or closed-model stages (N virtual users with think time). The last stage holds until stopped.

#include <chrono>
#include <cstdint>
#include <vector>

namespace faultline::probes {

struct load_stage {
  enum class model { open, closed };
  model kind = model::open;
  double rate_from = 0;  // open: arrivals per second at the start of the stage
  double rate_to = 0;    // open: at the end (equal to rate_from for a constant stage)
  std::int64_t users = 0;                    // closed: concurrent virtual users
  std::chrono::nanoseconds think_time{};     // closed: pause between a user's requests
  std::chrono::nanoseconds duration{};       // 0: until the generator is stopped
};

using load_shape = std::vector<load_stage>;

// Intended arrivals per second at `t` since the start of the shape (open stages only; closed
// stages report 0). Past the end, the last stage's final rate holds.
double rate_at(const load_shape& shape, std::chrono::nanoseconds t);

}  // namespace faultline::probes
