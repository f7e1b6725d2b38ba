#include "reports/routes.hpp"

#include <algorithm>

namespace faultline::reports {

std::vector<route_count> route_counts(const evidence_record& e) {
  std::vector<route_count> out;
  const auto routes = e.details.find("routes");
  if (routes == e.details.end() || !routes->is_object()) return out;
  const auto count = [](const nlohmann::json& tally, const char* key) -> std::uint64_t {
    const auto it = tally.find(key);
    return it != tally.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
  };
  for (const auto& [route, tally] : routes->items())
    if (tally.is_object()) out.push_back({route, count(tally, "seen"), count(tally, "matched"), count(tally, "affected")});
  std::stable_sort(out.begin(), out.end(), [](const route_count& a, const route_count& b) { return a.seen > b.seen; });
  return out;
}

}  // namespace faultline::reports
