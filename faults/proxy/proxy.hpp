#pragma once
// One proxy: a listener on `listen`, a connection to `upstream` per accepted client, and the
// proxy's toxics, which it applies to new connections and posts to live ones. Internal to
// proxy_set, which serialises calls per proxy and maps names to proxies.

#include "core/address.hpp"
#include "faults/proxy/connection.hpp"
#include "faults/proxy/io_pool.hpp"
#include "faults/proxy/link.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/tls_stream.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace faultline::proxy {

struct proxy_counters {
  std::atomic<std::uint64_t> connections_accepted_total{0};
  std::atomic<std::uint64_t> connections_active{0};
  std::atomic<std::uint64_t> connections_closed_total{0};
  std::atomic<std::uint64_t> upstream_connect_failures_total{0};
  std::atomic<std::uint64_t> tls_handshakes_total{0};
  std::atomic<std::uint64_t> tls_handshake_failures_total{0};
  direction_counters upstream;
  direction_counters downstream;
};

// A listen or upstream address, parsed by core's parser; throws proxy_error(listen_failed) in
// Go's wording ("listen tcp: address x: missing port in address"), as Toxiproxy answers.
address proxy_address(const std::string& text, const char* role);

class proxy final : public std::enable_shared_from_this<proxy> {
public:
  struct runtime {
    io_pool* pool = nullptr;
    std::shared_ptr<clock> time;
    std::size_t buffer_limit = default_buffer_limit;
    bool allow_non_loopback = false;
    bool zero_copy = true;
  };

  proxy(proxy_config config, std::shared_ptr<const protocol> protocol, runtime rt);
  ~proxy();

  const std::string& name() const { return config_.name; }
  proxy_info info() const;
  proxy_stats stats() const;

  void enable();   // binds and listens; throws proxy_error(listen_failed or invalid)
  void disable();  // closes the listener, then every connection
  bool enabled() const;
  std::string listen() const;
  std::string upstream() const;
  void retarget(const std::string& listen, const std::string& upstream);  // while disabled
  // Throws what enable() on `listen` would (bad address, not loopback, port taken), without
  // changing anything: an update is checked before it stops the running listener.
  void check_listen(const std::string& listen) const;

  installed_toxic add_toxic(installed_toxic spec, std::uint64_t id);
  installed_toxic update_toxic(std::string_view name, std::optional<double> toxicity, std::shared_ptr<const toxic_config> config);
  void remove_toxic(std::string_view name);
  void remove_all_toxics();
  std::vector<installed_toxic> toxics() const;
  void check_toxic(const installed_toxic& spec) const;  // throws what add_toxic would

private:
  struct listener;

  // The endpoint `listen` resolves to, refused when it is not loopback and that was not allowed.
  boost::asio::ip::tcp::endpoint allowed_endpoint(const std::string& listen) const;

  static boost::asio::awaitable<void> accept_loop(std::shared_ptr<proxy> self, std::shared_ptr<listener> l);
  // server: the upstream socket, opened by the listener's thread when the upstream is an IP
  // address (see io_pool::listeners()), else not open yet.
  static boost::asio::awaitable<void> open_connection(std::shared_ptr<proxy> self, std::shared_ptr<listener> l,
                                                      boost::asio::ip::tcp::socket client, boost::asio::ip::tcp::socket server);
  // The upstream side of a new connection: TCP on `server` (opened here if it is not), then TLS
  // with upstream_tls (offering `alpn`, the upstream's choice into `chosen`). Null when it failed
  // (counted and logged).
  static boost::asio::awaitable<std::unique_ptr<byte_stream>> dial_upstream(std::shared_ptr<proxy> self,
                                                                            boost::asio::ip::tcp::socket server, tls_context* tls,
                                                                            const std::vector<std::string>& alpn,
                                                                            std::string* chosen);
  template <typename F>
  void each_connection(F f);  // posts f(connection&) to every live connection; mutex_ held
  void publish_message_toxics();  // mutex_ held
  std::vector<installed_toxic>::iterator find(std::string_view name);
  void check_toxic_locked(const installed_toxic& spec) const;
  tls_handshake_faults roll_handshake_faults(std::uint64_t seed);  // mutex_ held

  proxy_config config_;
  std::shared_ptr<const protocol> protocol_;
  runtime runtime_;
  proxy_counters counters_;
  mutable std::mutex mutex_;
  std::shared_ptr<listener> listener_;
  std::shared_ptr<tls_context> tls_;  // built at the first enable() of a proxy with tls settings
  std::vector<installed_toxic> toxics_;
  std::shared_ptr<const message_toxic_list> message_toxics_;
  std::unordered_map<connection*, std::shared_ptr<connection>> connections_;
  std::atomic<std::uint64_t> seed_{0x5eed};
};

}  // namespace faultline::proxy
