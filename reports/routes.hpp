#pragma once
// An HTTP fault's requests by route, read from its evidence in the journal (`details.routes`,
// see docs/protocol-faults.md), for the HTML and Markdown reports.

#include "reports/journal.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace faultline::reports {

struct route_count {
  std::string route;  // "POST /payments"; "(other)" sums the routes beyond the first 32
  std::uint64_t seen = 0;
  std::uint64_t matched = 0;
  std::uint64_t affected = 0;  // acted on
};

// The per-route counts of a fault's evidence, busiest route first; empty when it has none.
std::vector<route_count> route_counts(const evidence_record& e);

}  // namespace faultline::reports
