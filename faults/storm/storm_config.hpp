#pragma once
// What a connection storm does, as one plain immutable struct: the target, how many connections
// at what rate, which handshake, hold or churn. Built from the `connection_storm` parameters
// (experiment step or `faultline storm` options) and sent to each worker process as JSON.

#include "core/params.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::storm {

// What a connection must complete to count as established.
enum class handshake_kind {
  tcp,        // the TCP connect only
  http,       // GET <path>, the response's status line and headers
  websocket,  // an HTTP/1.1 upgrade to WebSocket (Beast), 101 Switching Protocols
  postgres,   // a StartupMessage answered by an AuthenticationRequest (or ReadyForQuery)
  redis,      // PING answered by +PONG
};

const char* to_string(handshake_kind kind);
std::optional<handshake_kind> handshake_from_string(std::string_view name);

struct storm_config {
  std::string host;     // the target as written (numeric address or name); the Host of http/websocket
  std::string address;  // its numeric address, resolved once before the storm (empty: resolve `host`)
  std::uint16_t port = 0;
  handshake_kind handshake = handshake_kind::tcp;
  std::int64_t connections = 1000;  // hold: attempts in total; churn: connections open at once, at most
  double rate = 0;                  // attempts per second; 0: as fast as `max_pending` allows
  // hold: once every attempt has finished, keep the established connections this long (none:
  // until stopped). churn: how long each connection stays open after its handshake (none: 0).
  std::optional<std::chrono::nanoseconds> hold;
  bool churn = false;               // open, (hold,) close and open again until stopped
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);  // connect + handshake, per attempt
  std::vector<std::string> source_addresses;  // local addresses bound before connect, in turn (empty: none)
  std::int64_t max_pending = 1000;  // attempts in progress at once when no rate is given
  std::int64_t workers = 0;         // worker processes; 0: enough for the open-files limit
  std::string path = "/";           // http request target and websocket resource
  std::string user = "postgres";    // postgres StartupMessage user
  std::string database;             // postgres database (empty: same as user)

  // "127.0.0.1:5432" or "[::1]:5432".
  std::string target() const;
};

nlohmann::json to_json(const storm_config& config);
// Throws std::invalid_argument naming the bad field.
storm_config storm_config_from_json(const nlohmann::json& j);

// The `connection_storm` parameters (also the options of `faultline storm`).
const param_schema& storm_params();
// Rejects bad combinations by throwing param_error; does not touch the network.
void validate_storm_params(const params& p);
// The config for `host`:`port`; throws param_error for bad parameters. Without source_addresses
// the list stays empty: the fleet picks automatic ones once it has resolved the target.
storm_config storm_config_from_params(const params& p, const std::string& host, std::uint16_t port);

// Expands source address entries: "127.0.0.2" or a range "127.0.0.2-127.0.0.40" (IPv4, last
// octets may span). Throws param_error("source_addresses", ...) for malformed entries, mixed
// families or more than 65536 addresses.
std::vector<std::string> expand_source_addresses(const std::vector<std::string>& entries);

// Source addresses chosen when none are given: for a 127.0.0.0/8 target, enough 127.0.0.x
// addresses (from 127.0.0.1) that none carries more than 10,000 connections (connect() runs out of
// cheap ports at about 14,000 per source address and destination), none below that (the kernel
// picks 127.0.0.1), and at least 16 when churning (closed connections keep their port in
// TIME_WAIT for a while); for any other target none (the kernel picks).
std::vector<std::string> automatic_source_addresses(const std::string& target_host, std::int64_t connections,
                                                    bool churn);

}  // namespace faultline::storm
