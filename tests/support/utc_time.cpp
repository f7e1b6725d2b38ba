#include "tests/support/utc_time.hpp"

#include <ctime>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace faultline::test {

double parse_utc_seconds(const std::string& iso) {
  std::tm tm{};
  std::istringstream in(iso);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) throw std::invalid_argument("not an ISO 8601 UTC time: '" + iso + "'");
  double fraction = 0;
  if (in.peek() == '.') in >> fraction;
  return static_cast<double>(::timegm(&tm)) + fraction;
}

}  // namespace faultline::test
