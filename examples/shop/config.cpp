#include "examples/shop/config.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iostream>

namespace faultline::shop {

namespace {

std::string trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

// "1.5" from the front of `text`; the rest is left in `text`.
bool take_number(std::string& text, double& value) {
  std::size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
    ++digits;
  if (digits == 0) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (ec != std::errc{} || end != text.data() + digits) return false;
  text.erase(0, digits);
  return true;
}

std::string env_name(std::string_view flag) {
  std::string name = "SHOP_";
  for (char c : flag.substr(2)) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

std::chrono::nanoseconds parse_duration(std::string_view flag, std::string_view text) {
  std::string rest = trimmed(text);
  const std::string original = rest;
  double value = 0;
  if (rest.starts_with('-')) throw flag_error(fmt::format("{}: '{}' is negative; durations are 0 or more", flag, original));
  if (!take_number(rest, value))
    throw flag_error(fmt::format("{}: '{}' is not a duration; write e.g. 250ms, 1.5s or 2m", flag, original));
  if (rest.empty()) {
    if (value == 0) return std::chrono::nanoseconds(0);
    throw flag_error(fmt::format("{}: '{}' has no unit; write {}ms or {}s", flag, original, original, original));
  }
  double ns_per_unit = 0;
  if (rest == "ns") ns_per_unit = 1;
  else if (rest == "us") ns_per_unit = 1e3;
  else if (rest == "ms") ns_per_unit = 1e6;
  else if (rest == "s") ns_per_unit = 1e9;
  else if (rest == "m") ns_per_unit = 60e9;
  else if (rest == "h") ns_per_unit = 3600e9;
  else
    throw flag_error(fmt::format("{}: unknown unit '{}' in '{}'; use ns, us, ms, s, m or h", flag, rest, original));
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(value * ns_per_unit)));
}

address parse_address(std::string_view flag, std::string_view text) {
  const std::string t = trimmed(text);
  address a;
  std::string port;
  if (t.starts_with('[')) {
    const auto close = t.find(']');
    if (close == std::string::npos || close + 1 >= t.size() || t[close + 1] != ':')
      throw flag_error(fmt::format("{}: '{}' is not [ipv6]:port", flag, t));
    a.host = t.substr(1, close - 1);
    port = t.substr(close + 2);
  } else {
    const auto colon = t.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw flag_error(fmt::format("{}: '{}' has no port; write host:port, e.g. 127.0.0.1:5432", flag, t));
    if (t.find(':') != colon)
      throw flag_error(fmt::format("{}: '{}': put an IPv6 address in brackets, e.g. [::1]:6379", flag, t));
    a.host = t.substr(0, colon);
    port = t.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535)
    throw flag_error(fmt::format("{}: port '{}' in '{}' must be a number from 0 to 65535", flag, port, t));
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

double parse_fraction(std::string_view flag, std::string_view text) {
  std::string rest = trimmed(text);
  const std::string original = rest;
  double value = 0;
  if (!take_number(rest, value) || !(rest.empty() || rest == "%"))
    throw flag_error(fmt::format("{}: '{}' is not a fraction; write e.g. 50% or 0.5", flag, original));
  if (rest == "%") value /= 100;
  if (value < 0 || value > 1) throw flag_error(fmt::format("{}: '{}' is outside 0%..100%", flag, original));
  return value;
}

void parse_flags_into(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    std::exit(app.exit(e));  // --help, --version
  } catch (const CLI::ParseError& e) {
    throw flag_error(e.what());
  }
}

shop_config parse_command_line(int argc, char** argv) {
  shop_config c;
  CLI::App app{"faultline-shop: the demo orders service (PostgreSQL behind a Redis cache and a circuit breaker)",
               "faultline-shop"};
  app.set_version_flag("--version", "faultline-shop 0.1.0");

  // Durations, addresses and fractions are read as text and parsed below with our own messages.
  std::string listen = "127.0.0.1:8080", postgres = "127.0.0.1:5432", redis = "127.0.0.1:6379";
  std::string pg_timeout = "300ms", pg_backoff = "25ms", pg_max_backoff = "250ms";
  std::string redis_timeout = "100ms", redis_backoff = "10ms", redis_max_backoff = "100ms";
  std::string cache_ttl = "30s", stale_ttl = "1h", idle_timeout = "30s";
  std::string rule = "consecutive", failure_rate = "50%", slow_call = "250ms", cooldown = "5s";
  std::string payments, payments_timeout = "500ms", payments_failure_rate = "50%", payments_cooldown = "5s";

  auto option = [&](std::string name, auto& value, std::string help) {
    return app.add_option(name, value, std::move(help))->envname(env_name(name))->capture_default_str();
  };
  option("--listen", listen, "address to serve HTTP on (port 0: any free port, see --port-file)");
  option("--port-file", c.port_file, "write the bound port to this file once listening");
  option("--threads", c.threads, "threads, each with its own io_context and connection pools")->check(CLI::Range(1, 64));

  option("--postgres", postgres, "PostgreSQL address (in the demo: a faultline proxy)");
  option("--postgres-db", c.postgres_db, "database holding the orders table");
  option("--postgres-user", c.postgres_user, "PostgreSQL user");
  option("--postgres-password", c.postgres_password, "PostgreSQL password");
  option("--postgres-timeout", pg_timeout, "bound on one try: connection, query and result");
  option("--postgres-attempts", c.postgres.retry.attempts, "tries per request, the first included")->check(CLI::Range(1, 10));
  option("--postgres-backoff", pg_backoff, "pause before the first retry; doubles each retry");
  option("--postgres-max-backoff", pg_max_backoff, "longest pause between retries");
  option("--postgres-pool", c.postgres.pool, "PostgreSQL connections per thread at most")->check(CLI::Range(1, 64));

  option("--redis", redis, "Redis address (in the demo: a faultline proxy)");
  option("--redis-timeout", redis_timeout, "bound on one try: connection and command");
  option("--redis-attempts", c.redis.retry.attempts, "tries per cache command, the first included")->check(CLI::Range(1, 10));
  option("--redis-backoff", redis_backoff, "pause before the first retry; doubles each retry");
  option("--redis-max-backoff", redis_max_backoff, "longest pause between retries");
  option("--redis-pool", c.redis.pool, "Redis connections per thread at most")->check(CLI::Range(1, 64));

  option("--cache-ttl", cache_ttl, "how long a fresh copy is served from Redis (0: always ask PostgreSQL)");
  option("--stale-ttl", stale_ttl, "how long the stale copy, the fallback when PostgreSQL fails, is kept");

  option("--breaker-rule", rule, "what opens the breaker: consecutive (failures in a row) or rate (failure rate)")
      ->check(CLI::IsMember({"consecutive", "rate"}));
  option("--breaker-failures", c.breaker.consecutive_failures, "rule consecutive: failures in a row that open it")
      ->check(CLI::Range(1, 1000));
  option("--breaker-failure-rate", failure_rate, "rule rate: failure rate over the window that opens it");
  option("--breaker-window", c.breaker.window, "rule rate: number of recent calls judged")->check(CLI::Range(1, 10000));
  option("--breaker-minimum-calls", c.breaker.minimum_calls, "rule rate: fewest calls in the window before judging")
      ->check(CLI::Range(1, 10000));
  option("--breaker-slow-call", slow_call, "a successful call this slow counts as a failure (0: off)");
  option("--breaker-cooldown", cooldown, "how long it stays open before letting trial calls through");
  option("--breaker-trials", c.breaker.half_open_trials, "successful trial calls that close it when half-open")
      ->check(CLI::Range(1, 1000));

  option("--payments", payments, "payments API address that POST /checkout charges (in the demo: a faultline "
                                 "proxy); unset: checkout takes no payment");
  option("--payments-timeout", payments_timeout, "bound on one payment call: connection, request and answer");
  option("--payments-pool", c.payments_pool, "payments API connections per thread at most")->check(CLI::Range(1, 64));
  option("--payments-breaker-failure-rate", payments_failure_rate,
         "failure rate of the last 20 payment calls (judged from 10) that opens the payments breaker");
  option("--payments-breaker-cooldown", payments_cooldown, "how long the payments breaker stays open before trials");

  option("--max-inflight", c.max_inflight, "concurrent order requests; more are answered 503 at once (0: no limit)")
      ->check(CLI::Range(0, 1000000));
  option("--max-connections", c.max_connections, "open client connections; more are answered 503 and closed")
      ->check(CLI::Range(1, 1000000));
  option("--max-websocket-sessions", c.max_websocket_sessions,
         "live order sessions (WebSocket /orders/live); more are answered 503 instead of the upgrade (0: none)")
      ->check(CLI::Range(0, 1000000));
  option("--idle-timeout", idle_timeout, "close a client connection that sends nothing for this long");

  parse_flags_into(app, argc, argv);

  c.listen = parse_address("--listen", listen);
  c.postgres.where = parse_address("--postgres", postgres);
  c.postgres.timeout = parse_duration("--postgres-timeout", pg_timeout);
  c.postgres.retry.backoff = parse_duration("--postgres-backoff", pg_backoff);
  c.postgres.retry.max_backoff = parse_duration("--postgres-max-backoff", pg_max_backoff);
  c.redis.where = parse_address("--redis", redis);
  c.redis.timeout = parse_duration("--redis-timeout", redis_timeout);
  c.redis.retry.backoff = parse_duration("--redis-backoff", redis_backoff);
  c.redis.retry.max_backoff = parse_duration("--redis-max-backoff", redis_max_backoff);
  c.cache_ttl = parse_duration("--cache-ttl", cache_ttl);
  c.stale_ttl = parse_duration("--stale-ttl", stale_ttl);
  c.idle_timeout = parse_duration("--idle-timeout", idle_timeout);
  c.breaker.rule = rule == "rate" ? trip_rule::failure_rate : trip_rule::consecutive_failures;
  c.breaker.failure_rate = parse_fraction("--breaker-failure-rate", failure_rate);
  c.breaker.slow_call = parse_duration("--breaker-slow-call", slow_call);
  c.breaker.cooldown = parse_duration("--breaker-cooldown", cooldown);
  if (!payments.empty()) {
    c.payments = parse_address("--payments", payments);
    if (c.payments.port == 0) throw flag_error("--payments needs a real port, not 0");
  }
  c.payments_timeout = parse_duration("--payments-timeout", payments_timeout);
  if (c.payments_timeout < std::chrono::milliseconds(1)) throw flag_error("--payments-timeout must be at least 1ms");
  c.payments_breaker.failure_rate = parse_fraction("--payments-breaker-failure-rate", payments_failure_rate);
  if (c.payments_breaker.failure_rate <= 0)
    throw flag_error("--payments-breaker-failure-rate must be above 0% (0% would open on the first call)");
  c.payments_breaker.cooldown = parse_duration("--payments-breaker-cooldown", payments_cooldown);

  using std::chrono::milliseconds;
  if (c.postgres.timeout < milliseconds(1) || c.redis.timeout < milliseconds(1))
    throw flag_error("--postgres-timeout and --redis-timeout must be at least 1ms");
  if (c.postgres.where.port == 0 || c.redis.where.port == 0)
    throw flag_error("--postgres and --redis need a real port, not 0");
  if (c.cache_ttl.count() > 0 && c.cache_ttl < milliseconds(1))
    throw flag_error("--cache-ttl must be 0 (no fresh copies) or at least 1ms");
  if (c.stale_ttl < milliseconds(1)) throw flag_error("--stale-ttl must be at least 1ms: the stale copy is the fallback");
  if (c.stale_ttl < c.cache_ttl)
    throw flag_error(fmt::format("--stale-ttl ({}) is shorter than --cache-ttl ({}); the stale copy must outlive "
                                 "the fresh one",
                                 stale_ttl, cache_ttl));
  if (c.breaker.minimum_calls > c.breaker.window)
    throw flag_error(fmt::format("--breaker-minimum-calls ({}) is larger than --breaker-window ({}); it could never "
                                 "be reached",
                                 c.breaker.minimum_calls, c.breaker.window));
  if (c.breaker.rule == trip_rule::failure_rate && c.breaker.failure_rate <= 0)
    throw flag_error("--breaker-failure-rate must be above 0% (0% would open on the first call)");
  if (c.idle_timeout < milliseconds(1)) throw flag_error("--idle-timeout must be at least 1ms");
  return c;
}

}  // namespace faultline::shop
