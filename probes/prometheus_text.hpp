#pragma once
// Picking one series out of a Prometheus text exposition (format 0.0.4): a selector names the
// metric and, optionally, labels that must match, e.g. shop_breaker_state{dependency="postgres"}.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::probes {

struct series_selector {
  std::string name;
  std::map<std::string, std::string> labels;  // each must be present with this value
  std::string to_string() const;
};

// Throws std::invalid_argument saying what is wrong and how the selector is written.
series_selector parse_series_selector(std::string_view text);

struct series_match {
  std::size_t matches = 0;        // how many series matched (one is what a probe wants)
  std::optional<double> value;    // the value of the first match (NaN and +-Inf as written)
};

// Scans an exposition for the series the selector picks. Lines that do not parse are skipped.
series_match find_series(std::string_view exposition, const series_selector& selector);

}  // namespace faultline::probes
