#include "probes/load_shape.hpp"

namespace faultline::probes {

double rate_at(const load_shape& shape, std::chrono::nanoseconds t) {
  std::chrono::nanoseconds start{};
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const auto& s = shape[i];
    const bool last = i + 1 == shape.size();
    if (s.kind == load_stage::model::open && (last || s.duration.count() == 0 || t < start + s.duration)) {
      if (s.duration.count() == 0) return s.rate_from;
      if (t >= start + s.duration) return s.rate_to;
      const double progress = std::chrono::duration<double>(t - start) / std::chrono::duration<double>(s.duration);
      return s.rate_from + (s.rate_to - s.rate_from) * progress;
    }
    if (s.kind == load_stage::model::closed && (last || s.duration.count() == 0 || t < start + s.duration)) return 0;
    start += s.duration;
  }
  return 0;
}

}  // namespace faultline::probes
