#pragma once
// Timestamps as services and journals write them, for tests that compare the two.

#include <string>

namespace faultline::test {

// "2026-03-14T09:30:00.123456Z" (fraction optional) -> seconds since the epoch.
// Throws std::invalid_argument when the text does not start with such a time.
double parse_utc_seconds(const std::string& iso);

}  // namespace faultline::test
