#pragma once
// faultline's TCP fault proxies: many named proxies in one process, created, changed and removed
// at runtime, with Toxiproxy's toxics on them. Used in-process by the experiment runner and by
// the `faultline proxy` daemon behind its Toxiproxy-compatible HTTP API.
//
// Threads. A proxy_set owns its I/O threads: `options::threads` threads, each running its own
// io_context, and one more for the listeners. Connections are handed to them round robin;
// everything of one connection (both sockets, both directions, its timers) runs on one thread. The member
// functions below may be called from any thread (one mutex guards the control state). They
// never wait for data to move: toxic changes are posted to the connections' threads and return
// at once. Closing a listener (remove, disable) waits for that listener's thread to run one
// short handler, so that a connect right after remove() is refused.
//
// Toxics. Each proxy has an ordered list of toxics per direction (`stream`: upstream is
// client -> server, downstream is server -> client). A new connection gets the current lists;
// add/update/remove apply to live connections too: a new toxic joins the end of each chain;
// an updated or removed one first passes on every byte it was holding, in order. Toxicity is
// rolled once per toxic and connection direction (again on update); 0 means the toxic never
// acts. Names are unique per proxy; an empty name becomes "<type>_<stream>".
//
// Protocols. A proxy's `protocol` (tcp, postgres, redis) picks the session that owns each
// connection's message pipeline (see protocol.hpp). Toxics whose config names a protocol
// (message-level toxics) need a proxy of that protocol and are handed to its sessions instead
// of the byte chains.
//
// Errors are proxy_error exceptions whose kind says what went wrong (the HTTP API maps them
// to status codes); nothing is changed when one is thrown.

#include "faults/proxy/link.hpp"
#include "faults/proxy/protocol.hpp"
#include "faults/proxy/time.hpp"
#include "faults/proxy/tls_config.hpp"
#include "faults/proxy/toxic.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::proxy {

class proxy;
class io_pool;

struct proxy_config {
  std::string name;
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free port (see proxy_info)
  std::string upstream;                // host:port, resolved at each connection
  bool enabled = true;                 // disabled: nothing listens, connections are refused
  std::string protocol = "tcp";
  bool allow_non_loopback = false;     // listen on an address that is not 127.0.0.0/8 or ::1
  tls_settings tls;                    // passthrough or terminate; TLS to the upstream (tls_config.hpp)
};

struct proxy_info {
  std::string name;
  std::string listen;  // the bound address ("127.0.0.1:40123") once listening, else as given
  std::string upstream;
  bool enabled = true;
  std::string protocol;
  std::vector<installed_toxic> toxics;  // upstream ones first, then downstream, each in order added
  tls_settings tls;                     // as configured; a generated CA's ca_file as written
};

// Live counters of one proxy. Sorted, stable snake_case names.
struct proxy_stats {
  struct direction_stats {
    std::uint64_t bytes_received_total = 0;  // read from the sending side
    std::uint64_t bytes_sent_total = 0;      // written to the receiving side
    std::uint64_t bytes_spliced_total = 0;   // of those sent, moved by splice(2) without a toxic
  };
  std::uint64_t connections_accepted_total = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t connections_closed_total = 0;
  direction_stats downstream;  // server -> client
  std::uint64_t tls_handshake_failures_total = 0;  // client handshakes that failed (injected ones too)
  std::uint64_t tls_handshakes_total = 0;          // client handshakes completed (tls: terminate)
  std::uint64_t upstream_connect_failures_total = 0;  // TCP, or TLS to a TLS upstream
  direction_stats upstream;  // client -> server

  nlohmann::json to_json() const;
};

class proxy_error : public std::runtime_error {
public:
  enum class kind {
    invalid,          // bad input (400)
    not_found,        // no such proxy (404)
    already_exists,   // proxy name taken (409)
    toxic_not_found,  // (404)
    toxic_exists,     // toxic name taken on this proxy (409)
    listen_failed,    // bind/listen refused by the OS (500, as Toxiproxy)
  };
  proxy_error(kind k, const std::string& message) : std::runtime_error(message), kind_(k) {}
  kind what_kind() const noexcept { return kind_; }

private:
  kind kind_;
};

class proxy_set {
public:
  struct options {
    std::size_t threads = 2;
    std::shared_ptr<clock> time;                         // default: steady_clock()
    std::shared_ptr<const protocol_registry> protocols;  // default: register_builtin_protocols
    bool allow_non_loopback = false;                     // for every proxy of the set
    std::size_t buffer_limit = default_buffer_limit;                 // bytes in flight per connection direction
    bool zero_copy = true;  // splice(2) bulk data while a direction has no toxic (see connection.hpp)
  };

  proxy_set();
  explicit proxy_set(options o);
  ~proxy_set();  // stop()
  proxy_set(const proxy_set&) = delete;
  proxy_set& operator=(const proxy_set&) = delete;

  // Creates a proxy (listening at once when enabled) with optional initial toxics.
  proxy_info add(const proxy_config& config, const std::vector<installed_toxic>& toxics = {});
  // Toxiproxy's update: a new listen or upstream restarts the proxy (dropping its connections);
  // `enabled` starts or stops it. Name and protocol cannot change. A refused update (bad or
  // taken address, protocol change) changes nothing.
  proxy_info update(const proxy_config& config);
  proxy_info set_enabled(std::string_view name, bool enabled);
  void remove(std::string_view name);  // closes its listener and its connections
  std::optional<proxy_info> find(std::string_view name) const;
  std::vector<proxy_info> list() const;  // sorted by name

  // Adds `spec` (its id and counters are assigned here) and returns it as installed.
  installed_toxic add_toxic(std::string_view proxy, installed_toxic spec);
  // New toxicity and/or settings (same type); absent ones stay as they are.
  installed_toxic update_toxic(std::string_view proxy, std::string_view toxic, std::optional<double> toxicity,
                          std::shared_ptr<const toxic_config> config);
  void remove_toxic(std::string_view proxy, std::string_view toxic);
  std::vector<installed_toxic> toxics(std::string_view proxy) const;

  // Every proxy enabled and without toxics (Toxiproxy's POST /reset). All or nothing: when a
  // stopped proxy cannot listen, throws proxy_error(listen_failed) and nothing changed.
  void reset();

  proxy_stats stats(std::string_view proxy) const;
  std::vector<std::string> protocols() const;

  // Closes every listener and connection and joins the threads. Idempotent.
  void stop();

private:
  std::shared_ptr<proxy> get(std::string_view name) const;  // caller holds mutex_

  options options_;
  std::unique_ptr<io_pool> pool_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<proxy>, std::less<>> proxies_;
  std::atomic<std::uint64_t> next_toxic_id_{1};
  bool stopped_ = false;
};

}  // namespace faultline::proxy
