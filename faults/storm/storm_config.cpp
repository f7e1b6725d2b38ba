#include "faults/storm/storm_config.hpp"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace faultline::storm {
namespace {

namespace ip = boost::asio::ip;
using std::chrono::nanoseconds;

constexpr std::size_t max_source_addresses = 65536;

const std::vector<std::string>& handshake_names() {
  static const std::vector<std::string> names{"tcp", "http", "websocket", "postgres", "redis"};
  return names;
}

ip::address parse_ip(const std::string& text) {
  boost::system::error_code ec;
  auto a = ip::make_address(text, ec);
  if (ec)
    throw param_error("source_addresses", fmt::format("'{}' is not an IP address; write e.g. 127.0.0.2 or a range "
                                                      "127.0.0.2-127.0.0.40", text));
  return a;
}

}  // namespace

const char* to_string(handshake_kind kind) {
  switch (kind) {
    case handshake_kind::tcp: return "tcp";
    case handshake_kind::http: return "http";
    case handshake_kind::websocket: return "websocket";
    case handshake_kind::postgres: return "postgres";
    case handshake_kind::redis: return "redis";
  }
  return "tcp";
}

std::optional<handshake_kind> handshake_from_string(std::string_view name) {
  for (auto k : {handshake_kind::tcp, handshake_kind::http, handshake_kind::websocket, handshake_kind::postgres,
                 handshake_kind::redis})
    if (name == to_string(k)) return k;
  return std::nullopt;
}

std::string storm_config::target() const {
  // The Host header and messages name the target as written.
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

nlohmann::json to_json(const storm_config& c) {
  nlohmann::json j{
      {"host", c.host},
      {"address", c.address},
      {"port", c.port},
      {"handshake", to_string(c.handshake)},
      {"connections", c.connections},
      {"rate", c.rate},
      {"churn", c.churn},
      {"timeout_ns", c.timeout.count()},
      {"source_addresses", c.source_addresses},
      {"max_pending", c.max_pending},
      {"workers", c.workers},
      {"path", c.path},
      {"user", c.user},
      {"database", c.database},
  };
  j["hold_ns"] = c.hold ? nlohmann::json(c.hold->count()) : nlohmann::json(nullptr);
  return j;
}

storm_config storm_config_from_json(const nlohmann::json& j) {
  try {
    storm_config c;
    c.host = j.at("host").get<std::string>();
    c.address = j.at("address").get<std::string>();
    c.port = j.at("port").get<std::uint16_t>();
    auto hs = handshake_from_string(j.at("handshake").get<std::string>());
    if (!hs) throw std::invalid_argument("unknown handshake '" + j.at("handshake").get<std::string>() + "'");
    c.handshake = *hs;
    c.connections = j.at("connections").get<std::int64_t>();
    c.rate = j.at("rate").get<double>();
    c.churn = j.at("churn").get<bool>();
    c.timeout = nanoseconds(j.at("timeout_ns").get<std::int64_t>());
    if (!j.at("hold_ns").is_null()) c.hold = nanoseconds(j.at("hold_ns").get<std::int64_t>());
    c.source_addresses = j.at("source_addresses").get<std::vector<std::string>>();
    c.max_pending = j.at("max_pending").get<std::int64_t>();
    c.workers = j.at("workers").get<std::int64_t>();
    c.path = j.at("path").get<std::string>();
    c.user = j.at("user").get<std::string>();
    c.database = j.at("database").get<std::string>();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("storm config: ") + e.what());
  }
}

const param_schema& storm_params() {
  static const param_schema schema{
      {"connections", param_kind::integer,
       "hold: connections to open; churn: connections open at once, at most", std::int64_t(1000), false, 1.0, 1e6},
      {"rate", param_kind::rate, "connection attempts per second (default: as fast as possible)", {}, false, 0.001},
      {"handshake", param_kind::choice, "what a connection completes: tcp, http, websocket, postgres or redis",
       std::string("tcp"), false, {}, {}, handshake_names()},
      {"hold", param_kind::duration,
       "hold: keep the connections this long once all are open (default: until the fault ends); churn: how long "
       "each connection stays open (default: 0)", {}, false, 0.0},
      {"churn", param_kind::flag, "open and close connections in a loop instead of holding them", false},
      {"timeout", param_kind::duration, "limit for connect plus handshake of one connection", nanoseconds(std::chrono::seconds(5)),
       false, 1e6},
      {"source_addresses", param_kind::text_list,
       "local addresses to connect from, in turn (\"127.0.0.2\", \"127.0.0.2-127.0.0.40\"); default: 127.0.0.x "
       "addresses as needed for loopback targets"},
      {"max_pending", param_kind::integer, "without a rate: connection attempts in progress at once",
       std::int64_t(1000), false, 1.0, 1e6},
      {"workers", param_kind::integer, "worker processes (default 0: as many as the open-files limit needs)",
       std::int64_t(0), false, 0.0, 64.0},
      {"path", param_kind::text, "http request path and websocket resource", std::string("/")},
      {"user", param_kind::text, "postgres: the StartupMessage user", std::string("postgres")},
      {"database", param_kind::text, "postgres: the database (default: the user)", std::string("")},
  };
  return schema;
}

void validate_storm_params(const params& p) {
  if (auto sources = p.maybe<std::vector<std::string>>("source_addresses")) (void)expand_source_addresses(*sources);
  if (!p.text("path").starts_with('/'))
    throw param_error("path", fmt::format("path '{}' must start with '/', e.g. /ws", p.text("path")));
  if (p.text("user").empty()) throw param_error("user", "user must not be empty");
}

storm_config storm_config_from_params(const params& p, const std::string& host, std::uint16_t port) {
  validate_storm_params(p);
  storm_config c;
  c.host = host;
  c.port = port;
  c.handshake = handshake_from_string(p.text("handshake")).value_or(handshake_kind::tcp);
  c.connections = p.integer("connections");
  if (auto r = p.maybe<double>("rate")) c.rate = *r;
  c.hold = p.maybe<nanoseconds>("hold");
  c.churn = p.flag("churn");
  c.timeout = p.duration("timeout");
  c.max_pending = p.integer("max_pending");
  c.workers = p.integer("workers");
  c.path = p.text("path");
  c.user = p.text("user");
  c.database = p.text("database");
  if (auto sources = p.maybe<std::vector<std::string>>("source_addresses"); sources && !sources->empty()) {
    c.source_addresses = expand_source_addresses(*sources);
    boost::system::error_code ec;
    auto target = ip::make_address(host, ec);
    if (!ec && target.is_v4() != parse_ip(c.source_addresses.front()).is_v4())
      throw param_error("source_addresses", fmt::format("source addresses are IPv{} but the target {} is IPv{}",
                                                        target.is_v4() ? 6 : 4, c.target(), target.is_v4() ? 4 : 6));
  }
  return c;
}

std::vector<std::string> expand_source_addresses(const std::vector<std::string>& entries) {
  std::vector<std::string> out;
  std::optional<bool> v4;
  for (const auto& entry : entries) {
    const auto dash = entry.find('-');
    if (dash == std::string::npos) {
      auto a = parse_ip(entry);
      if (v4 && *v4 != a.is_v4()) throw param_error("source_addresses", "source addresses mix IPv4 and IPv6; use one family");
      v4 = a.is_v4();
      out.push_back(a.to_string());
    } else {
      auto from = parse_ip(entry.substr(0, dash));
      auto to = parse_ip(entry.substr(dash + 1));
      if (!from.is_v4() || !to.is_v4())
        throw param_error("source_addresses", fmt::format("range '{}': ranges are for IPv4 only; list IPv6 addresses one by one", entry));
      if (v4 && !*v4) throw param_error("source_addresses", "source addresses mix IPv4 and IPv6; use one family");
      v4 = true;
      const auto a = from.to_v4().to_uint();
      const auto b = to.to_v4().to_uint();
      if (b < a) throw param_error("source_addresses", fmt::format("range '{}' ends before it starts", entry));
      if (b - a >= max_source_addresses)
        throw param_error("source_addresses", fmt::format("range '{}' has more than {} addresses", entry, max_source_addresses));
      for (auto x = a; x <= b; ++x) out.push_back(ip::address_v4(x).to_string());
    }
    if (out.size() > max_source_addresses)
      throw param_error("source_addresses", fmt::format("more than {} source addresses", max_source_addresses));
  }
  return out;
}

std::vector<std::string> automatic_source_addresses(const std::string& target_host, std::int64_t connections, bool churn) {
  boost::system::error_code ec;
  auto target = ip::make_address(target_host, ec);
  if (ec || !target.is_v4() || (target.to_v4().to_uint() >> 24) != 127) return {};
  // connect() picks ports of one parity first: one source address has ~14,000 cheap ports to a
  // given destination; past that every connect() scans the whole range (100x slower).
  constexpr std::int64_t per_address = 10000;
  auto count = std::max<std::int64_t>(1, (connections + per_address - 1) / per_address);
  if (churn) count = std::max<std::int64_t>(count, 16);
  if (count == 1) return {};  // one address: the kernel's own choice, 127.0.0.1, is as good
  count = std::min<std::int64_t>(count, 254);
  std::vector<std::string> out;
  for (std::int64_t i = 1; i <= count; ++i) out.push_back(fmt::format("127.0.0.{}", i));
  return out;
}

}  // namespace faultline::storm
