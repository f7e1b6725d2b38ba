#pragma once
// Values as people write them: durations ("250ms", "1.5s", "1m30s"), rates ("200/s",
// "12k/min"), fractions ("0.5%", "0.1"), sizes ("64KiB", "10MB"), bandwidths ("10MB/s",
// "100Mbit/s") and addresses ("127.0.0.1:5432", "[::1]:6379", "localhost:80").

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace faultline::engine {

// A value that does not parse; the message says what was expected, with an example.
class unit_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

std::chrono::nanoseconds parse_duration(std::string_view text);
double parse_rate(std::string_view text);       // per second
double parse_fraction(std::string_view text);   // "10%" or "0.1" -> 0.1; outside 0..1 is an error
std::int64_t parse_size(std::string_view text); // bytes; KB = 1000, KiB = 1024
double parse_bandwidth(std::string_view text);  // bytes per second; "100Mbit/s" = 12.5e6
double parse_number(std::string_view text);
std::int64_t parse_integer(std::string_view text);

struct host_port {
  std::string host;
  std::uint16_t port = 0;
};
// "host:port", "[v6]:port". Port 0 is accepted; callers that need a real port check it.
host_port parse_address(std::string_view text);

// Shortest exact rendering: 1500ms -> "1.5s", 250us -> "250us", 90s -> "1m30s".
std::string format_duration(std::chrono::nanoseconds d);
// Seconds for people: "2s" for 1.9998, "837.21ms", "12us": three to five significant digits.
std::string format_seconds(double seconds);
std::string format_rate(double per_second);      // "200/s"
std::string format_fraction(double fraction);    // "1%", "0.05%"
std::string format_size(std::int64_t bytes);     // "64KiB" when exact, else bytes
std::string format_bandwidth(double bytes_per_second);

}  // namespace faultline::engine
