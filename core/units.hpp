#pragma once
// Values as people write them: durations ("250ms", "1.5s", "1m30s"), rates ("200/s",
// "12k/min"), fractions ("0.5%", "0.1"), sizes ("64KiB", "10MB") and bandwidths ("10MB/s",
// "100Mbit/s"). One parser per unit, one exact formatter for configured values and one rounded
// formatter for measured ones; every folder writes values through these.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace faultline {

// A value that does not parse; the message says what was expected, with an example.
class unit_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

// Durations, rates, sizes and bandwidths above core/limits.hpp's limits are errors that name it.
std::chrono::nanoseconds parse_duration(std::string_view text);
double parse_rate(std::string_view text);       // per second; "12k/min", "1M/s", "1G/s" (too high: an error)
double parse_fraction(std::string_view text);   // "10%" or "0.1" -> 0.1; outside 0..1 is an error
double parse_share(std::string_view text);      // "150%" or "1.5" -> 1.5: may exceed 1 (CPU: 150% = 1.5 cores)
std::int64_t parse_size(std::string_view text); // bytes; KB = 1000, KiB = 1024
double parse_bandwidth(std::string_view text);  // bytes per second; "100Mbit/s" = 12.5e6
double parse_number(std::string_view text);     // finite
std::int64_t parse_integer(std::string_view text);

// Configured values, exactly: what these print parses back to the same value (plan, list, docs).
// Shortest exact rendering: 1500ms -> "1.5s", 250us -> "250us", 90s -> "1m30s".
std::string format_duration(std::chrono::nanoseconds d);
std::string format_rate(double per_second);      // "200/s"
std::string format_fraction(double fraction);    // "1%", "0.05%"
std::string format_size(std::int64_t bytes);     // "64KiB" or "500MB" when exact, else bytes
std::string format_bandwidth(double bytes_per_second);

// Measured values, rounded for people (reports, summaries, messages).
// 0.000042 -> "42µs", 0.0123 -> "12.3ms", 0.8 -> "800ms", 6 -> "6s", 12.34 -> "12.3s",
// 95 -> "1m35s", 3720 -> "1h02m". Three significant digits below a minute; never "0s" for a
// time that is not 0.
std::string format_seconds(double seconds);
// "—" when absent.
std::string format_seconds(const std::optional<double>& seconds);
// A fraction as a percentage with as few decimals as show it faithfully: 0.032 -> "3.2%",
// 0.9995 -> "99.95%", 0.99999 -> "99.999%", never rounding a value that is not 0 or 1 to "0%" or "100%".
std::string format_percent(double fraction);
// Requests per second: 198.4 -> "198/s", 15200 -> "15.2k/s", 0.5 -> "0.5/s".
std::string format_measured_rate(double per_second);
// A count with thousands separators: 18734112 -> "18,734,112".
std::string format_count(std::uint64_t n);
// A number with at most `decimals` decimals and no trailing zeros: 2.50 -> "2.5".
std::string format_number(double value, int decimals = 3);

}  // namespace faultline
