#pragma once
// The shop's settings, parsed once from flags (or SHOP_* environment variables) into a plain
// struct that the rest of the program only reads.

#include "examples/shop/circuit_breaker.hpp"
#include "examples/shop/retry_policy.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace faultline::shop {

// A flag whose value is wrong; the message names the flag and says what to write instead.
class flag_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct address {
  std::string host;
  std::uint16_t port = 0;
};

struct dependency_config {
  address where;
  std::chrono::nanoseconds timeout{};  // bounds one try: waiting for a connection, connecting, the command
  retry_policy retry;
  int pool = 4;  // connections per thread at most
};

struct shop_config {
  address listen{"127.0.0.1", 8080};
  std::string port_file;  // written with the bound port once listening (useful with port 0)
  int threads = 2;

  dependency_config postgres{{"127.0.0.1", 5432}, std::chrono::milliseconds(300), {2}, 4};
  std::string postgres_db = "shop";
  std::string postgres_user = "postgres";
  std::string postgres_password;
  dependency_config redis{{"127.0.0.1", 6379}, std::chrono::milliseconds(100), {1}, 8};

  std::chrono::nanoseconds cache_ttl = std::chrono::seconds(30);  // 0: no fresh copies, only stale ones
  std::chrono::nanoseconds stale_ttl = std::chrono::hours(1);
  breaker_config breaker;

  // The payments API that POST /checkout charges (docs/shop.md); an empty host: checkout takes
  // no payment. One try per checkout (a rate-limited API is not retried), its own breaker.
  address payments;
  std::chrono::nanoseconds payments_timeout = std::chrono::milliseconds(500);
  int payments_pool = 4;  // connections per thread at most
  breaker_config payments_breaker{trip_rule::failure_rate, 5, 0.5, 20, 10, std::chrono::nanoseconds(0),
                                  std::chrono::seconds(5), 3};

  int max_inflight = 256;  // concurrent order requests; beyond it answer 503 at once; 0 = no limit
  int max_connections = 2000;
  int max_websocket_sessions = 1000;  // live order sessions; beyond it the upgrade is answered 503
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(30);
};

// Parses argv (and SHOP_* variables). Prints help or version and exits 0 when asked; throws
// flag_error for bad input.
shop_config parse_command_line(int argc, char** argv);

// CLI11's parse of argv into `app`, shared by the shop and the payments API: --help and --version
// print and exit 0; a bad flag throws flag_error.
void parse_flags_into(CLI::App& app, int argc, char** argv);

// "250ms", "1.5s", "2m", "0"; throws flag_error naming `flag`.
std::chrono::nanoseconds parse_duration(std::string_view flag, std::string_view text);
// "127.0.0.1:5432", "[::1]:6379", "localhost:8080".
address parse_address(std::string_view flag, std::string_view text);
// "50%" or "0.5".
double parse_fraction(std::string_view flag, std::string_view text);

}  // namespace faultline::shop
