#include "faults/proxy/proxy.hpp"

#include "faults/proxy/log.hpp"
#include "faults/proxy/tls_toxics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <future>
#include <optional>
#include <random>

namespace faultline::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto relaxed = std::memory_order_relaxed;

// Go's error texts are lower case ("bind: address already in use"); Toxiproxy clients show them.
std::string go_style(const error_code& ec) {
  auto text = ec.message();
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string to_address(const tcp::endpoint& ep) {
  return address{ep.address().to_string(), ep.port()}.to_string();
}

// Resolves a listen address, preferring IPv4 as Go does for "localhost".
tcp::endpoint resolve_listen(const std::string& listen) {
  auto where = proxy_address(listen, "listen");
  if (where.host.empty()) where.host = "127.0.0.1";  // Go would listen everywhere; we stay on loopback
  error_code ec;
  auto ip = asio::ip::make_address(where.host, ec);
  if (!ec) return {ip, where.port};
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(where.host, std::to_string(where.port), ec);
  if (ec || results.empty())
    throw proxy_error(proxy_error::kind::listen_failed, fmt::format("listen tcp: lookup {}: no such host", where.host));
  for (const auto& r : results)
    if (r.endpoint().address().is_v4()) return {r.endpoint().address(), where.port};
  return {results.begin()->endpoint().address(), where.port};
}

// The host an upstream address dials: an empty host is 127.0.0.1.
std::string dial_host(const address& where) { return where.host.empty() ? "127.0.0.1" : where.host; }

// The upstream's IP address when it is one (no name to resolve).
std::optional<asio::ip::address> upstream_ip(const std::string& upstream) {
  try {
    error_code ec;
    auto ip = asio::ip::make_address(dial_host(proxy_address(upstream, "dial")), ec);
    if (ec) return std::nullopt;
    return ip;
  } catch (const proxy_error&) {
    return std::nullopt;  // dial_upstream reports it
  }
}

}  // namespace

address proxy_address(const std::string& text, const char* role) {
  try {
    return parse_address(text, listen_address);
  } catch (const address_error& e) {
    using reason = address_error::reason;
    const char* why = "invalid port";
    switch (e.why()) {
      case reason::missing_port: why = "missing port in address"; break;
      case reason::missing_bracket: why = "missing ']' in address"; break;
      case reason::unbracketed_ipv6: why = "too many colons in address"; break;
      case reason::empty_host:
      case reason::bad_port:
      case reason::port_zero: break;
    }
    throw proxy_error(proxy_error::kind::listen_failed, fmt::format("{} tcp: address {}: {}", role, text, why));
  }
}

struct proxy::listener {
  explicit listener(asio::io_context& ctx) : executor(ctx.get_executor()), acceptor(ctx) {}
  asio::io_context::executor_type executor;
  tcp::acceptor acceptor;
  bool closed = false;  // touched only on `executor`
};

proxy::proxy(proxy_config config, std::shared_ptr<const protocol> protocol, runtime rt)
    : config_(std::move(config)),
      protocol_(std::move(protocol)),
      runtime_(std::move(rt)),
      message_toxics_(std::make_shared<message_toxic_list>()) {}

proxy::~proxy() = default;

proxy_info proxy::info() const {
  std::lock_guard lock(mutex_);
  proxy_info out{config_.name, config_.listen, config_.upstream, listener_ != nullptr, config_.protocol, {}};
  for (auto d : {direction::upstream, direction::downstream})
    for (const auto& r : toxics_)
      if (r.stream == d) out.toxics.push_back(r);
  out.tls = config_.tls;
  if (tls_ && config_.tls.generate) out.tls.ca_file = tls_->ca_file();
  return out;
}

proxy_stats proxy::stats() const {
  proxy_stats s;
  s.connections_accepted_total = counters_.connections_accepted_total.load(relaxed);
  s.connections_active = counters_.connections_active.load(relaxed);
  s.connections_closed_total = counters_.connections_closed_total.load(relaxed);
  s.upstream_connect_failures_total = counters_.upstream_connect_failures_total.load(relaxed);
  s.tls_handshakes_total = counters_.tls_handshakes_total.load(relaxed);
  s.tls_handshake_failures_total = counters_.tls_handshake_failures_total.load(relaxed);
  auto snapshot = [](const direction_counters& c) {
    return proxy_stats::direction_stats{c.bytes_received_total.load(relaxed), c.bytes_sent_total.load(relaxed),
                                        c.bytes_spliced_total.load(relaxed)};
  };
  s.upstream = snapshot(counters_.upstream);
  s.downstream = snapshot(counters_.downstream);
  return s;
}

bool proxy::enabled() const {
  std::lock_guard lock(mutex_);
  return listener_ != nullptr;
}

std::string proxy::listen() const {
  std::lock_guard lock(mutex_);
  return config_.listen;
}

std::string proxy::upstream() const {
  std::lock_guard lock(mutex_);
  return config_.upstream;
}

void proxy::retarget(const std::string& listen, const std::string& upstream) {
  std::lock_guard lock(mutex_);
  config_.listen = listen;
  config_.upstream = upstream;
}

tcp::endpoint proxy::allowed_endpoint(const std::string& listen) const {
  auto endpoint = resolve_listen(listen);
  if (!endpoint.address().is_loopback() && !config_.allow_non_loopback && !runtime_.allow_non_loopback)
    throw proxy_error(proxy_error::kind::invalid,
                      fmt::format("proxy '{}' would listen on {}, which is not loopback; listen on 127.0.0.1 or allow "
                                  "non-loopback addresses explicitly (faultline proxy --allow-non-loopback)",
                                  config_.name, to_address(endpoint)));
  return endpoint;
}

void proxy::check_listen(const std::string& listen) const {
  std::lock_guard lock(mutex_);
  auto endpoint = allowed_endpoint(listen);
  if (endpoint.port() == 0 || (listener_ && to_address(endpoint) == config_.listen)) return;  // a free port, or ours
  // Bound and closed at once: a port another socket holds is refused before anything changes.
  asio::io_context ioc;
  tcp::acceptor probe(ioc);
  error_code ec;
  probe.open(endpoint.protocol(), ec);
  if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) probe.bind(endpoint, ec);
  if (ec) throw proxy_error(proxy_error::kind::listen_failed, fmt::format("listen tcp {}: bind: {}", to_address(endpoint), go_style(ec)));
}

void proxy::enable() {
  std::lock_guard lock(mutex_);
  if (listener_) return;
  auto endpoint = allowed_endpoint(config_.listen);
  if (config_.tls.any() && !tls_) {
    auto host = proxy_address(config_.listen, "listen").host;
    tls_ = std::make_shared<tls_context>(config_.tls, config_.name, host.empty() ? endpoint.address().to_string() : host);
  }
  auto l = std::make_shared<listener>(runtime_.pool->listeners());
  error_code ec;
  auto fail = [&](const char* step) {
    return proxy_error(proxy_error::kind::listen_failed, fmt::format("listen tcp {}: {}: {}", to_address(endpoint), step, go_style(ec)));
  };
  l->acceptor.open(endpoint.protocol(), ec);
  if (ec) throw fail("socket");
  l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  l->acceptor.bind(endpoint, ec);
  if (ec) throw fail("bind");
  l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw fail("listen");
  auto bound = l->acceptor.local_endpoint(ec);
  if (!ec) config_.listen = to_address(bound);  // as Toxiproxy: the real port once bound
  listener_ = l;
  asio::co_spawn(l->executor, accept_loop(shared_from_this(), l), log_stray_exception(proxy_log(), "proxy " + config_.name + " listener"));
  proxy_log()->info("proxy {} listening on {} for {}", config_.name, config_.listen, config_.upstream);
}

void proxy::disable() {
  std::shared_ptr<listener> l;
  std::vector<std::shared_ptr<connection>> open;
  {
    std::lock_guard lock(mutex_);
    l = std::move(listener_);
    listener_.reset();
    for (auto& [raw, c] : connections_) open.push_back(c);
  }
  if (l) {
    auto shut = [l] {
      l->closed = true;
      error_code ignored;
      l->acceptor.close(ignored);
    };
    if (l->executor.running_in_this_thread()) {
      shut();
    } else {
      // Wait for the listener's thread, so that a connect after this returns is refused.
      auto done = std::make_shared<std::promise<void>>();
      auto finished = done->get_future();
      asio::post(l->executor, [shut, done] {
        shut();
        done->set_value();
      });
      if (finished.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
        proxy_log()->warn("proxy {}: listener thread did not answer within 5s; closing anyway", config_.name);
    }
  }
  for (auto& c : open) asio::post(c->executor(), [c] { c->close(); });
}

asio::awaitable<void> proxy::accept_loop(std::shared_ptr<proxy> self, std::shared_ptr<listener> l) {
  asio::steady_timer pause(l->executor);
  for (;;) {
    auto& ctx = self->runtime_.pool->next();
    auto [ec, socket] = co_await l->acceptor.async_accept(ctx, asio::as_tuple(asio::use_awaitable));
    if (l->closed || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or memory: keep the listener, try again shortly.
      proxy_log()->warn("proxy {}: accept failed: {}", self->config_.name, ec.message());
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    self->counters_.connections_accepted_total.fetch_add(1, relaxed);
    auto ex = socket.get_executor();
    // Opened here, for the reason in io_pool::listeners(); dial_upstream opens it otherwise.
    tcp::socket server(ex);
    error_code oec;
    auto ip = upstream_ip(self->upstream());
    if (ip) server.open(ip->is_v4() ? tcp::v4() : tcp::v6(), oec);
    // The coroutine is made on the connection's thread: made here, its frame would sit in this
    // thread's arena among the kept reactor state, and the holes it leaves there could not be
    // given back (measured: 4 MB more after 9,900 connections closed, docs/benchmarks.md).
    asio::post(ex, [self, l, socket = std::move(socket), server = std::move(server)]() mutable {
      auto here = socket.get_executor();
      asio::co_spawn(here, open_connection(self, l, std::move(socket), std::move(server)),
                     log_stray_exception(proxy_log(), "proxy " + self->config_.name + " connection"));
    });
  }
}

// GCC 12 reports a false -Wmismatched-new-delete on Asio's coroutine frame allocator here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> proxy::open_connection(std::shared_ptr<proxy> self, std::shared_ptr<listener> l, tcp::socket client,
                                             tcp::socket server) {
  auto ex = client.get_executor();
  std::shared_ptr<tls_context> tls;
  tls_handshake_faults faults;
  {
    std::lock_guard lock(self->mutex_);
    tls = self->tls_;
    if (tls && tls->server()) faults = self->roll_handshake_faults(self->seed_.fetch_add(0x9e3779b97f4a7c15ULL, relaxed));
  }
  std::unique_ptr<byte_stream> client_side;
  std::unique_ptr<byte_stream> server_side;
  // ALPN through to a TLS upstream: the client's offer is read from its ClientHello and the
  // upstream is dialled with it before the client's handshake, which then presents the upstream's
  // choice. (Protocols with an in-band TLS request, PostgreSQL's, carry no ALPN here.)
  std::optional<std::string> upstream_alpn;
  if (tls && tls->server() && tls->upstream() && !self->protocol_->tls_request()) {
    const auto offered = co_await peek_client_alpn(client);
    if (!offered.empty()) {
      std::string chosen;
      server_side = co_await dial_upstream(self, std::move(server), tls.get(), offered, &chosen);
      if (!server_side) co_return;  // the client is closed before its handshake, as when nothing listens
      upstream_alpn = std::move(chosen);
    }
  }
  if (tls && tls->server()) {
    auto [hec, stream] = co_await accept_tls(std::move(client), *tls, self->protocol_->tls_request(), faults, upstream_alpn);
    if (hec) {
      self->counters_.tls_handshake_failures_total.fetch_add(1, relaxed);
      proxy_log()->debug("proxy {}: TLS handshake with a client failed: {}", self->config_.name, hec.message());
      if (server_side) server_side->close();
      co_return;  // the stream is gone with the coroutine; the client saw the alert or the close
    }
    self->counters_.tls_handshakes_total.fetch_add(1, relaxed);
    client_side = std::move(stream);
  } else {
    client_side = std::make_unique<tcp_stream>(std::move(client));
  }
  if (!server_side) {
    server_side = co_await dial_upstream(self, std::move(server), tls.get(), {}, nullptr);
    if (!server_side) {
      client_side->close();  // as Toxiproxy: the client sees its connection closed
      co_return;
    }
  }

  connection::settings settings;
  settings.time = self->runtime_.time;
  settings.buffer_limit = self->runtime_.buffer_limit;
  settings.zero_copy = self->runtime_.zero_copy;
  // Measured: a 50 ms latency toxic's release was 60-80 us late at the median from the timer
  // wake-up alone (docs/benchmarks.md); 100 us of polling covers it.
  if (settings.time == steady_clock()) settings.wake_early = std::chrono::microseconds(100);
  settings.seed = self->seed_.fetch_add(0x9e3779b97f4a7c15ULL, relaxed);
  settings.upstream_counters = &self->counters_.upstream;
  settings.downstream_counters = &self->counters_.downstream;
  auto conn = std::make_shared<connection>(std::move(client_side), std::move(server_side), self->protocol_->open_session(),
                                           std::move(settings));

  // Registered and started under the lock: any toxic change after this is posted to it.
  std::lock_guard lock(self->mutex_);
  if (self->listener_ != l) {
    conn->close();  // disabled or restarted while we were dialing
    co_return;
  }
  std::vector<installed_toxic> entries;
  for (const auto& r : self->toxics_)
    if (!r.message_level()) entries.push_back(r);
  self->connections_.emplace(conn.get(), conn);
  self->counters_.connections_active.fetch_add(1, relaxed);
  std::weak_ptr<proxy> weak = self;
  conn->start(entries, self->message_toxics_, [weak, raw = conn.get(), ex] {
    // Deferred: the connection may finish inside a call made under the lock.
    asio::post(ex, [weak, raw] {
      auto p = weak.lock();
      if (!p) return;
      std::lock_guard relock(p->mutex_);
      if (p->connections_.erase(raw)) {
        p->counters_.connections_active.fetch_sub(1, relaxed);
        p->counters_.connections_closed_total.fetch_add(1, relaxed);
      }
    });
  });
}
asio::awaitable<std::unique_ptr<byte_stream>> proxy::dial_upstream(std::shared_ptr<proxy> self, tcp::socket server, tls_context* tls,
                                                                   const std::vector<std::string>& alpn, std::string* chosen) {
  auto ex = co_await asio::this_coro::executor;
  std::string upstream = self->upstream();
  std::string upstream_host;
  error_code ec;
  try {
    auto where = proxy_address(upstream, "dial");
    upstream_host = dial_host(where);
    auto ip = asio::ip::make_address(upstream_host, ec);
    if (!ec) {
      // Opened for the upstream as it was at accept; it may have changed family since.
      if (server.is_open() && ip.is_v4() != (server.local_endpoint(ec).protocol() == tcp::v4())) server.close(ec);
      ec = {};
      std::tie(ec) = co_await server.async_connect({ip, where.port}, asio::as_tuple(asio::use_awaitable));
    } else {
      tcp::resolver resolver(ex);
      auto [rec, results] = co_await resolver.async_resolve(where.host, std::to_string(where.port), asio::as_tuple(asio::use_awaitable));
      ec = rec;
      if (!ec) std::tie(ec, std::ignore) = co_await asio::async_connect(server, results, asio::as_tuple(asio::use_awaitable));
    }
  } catch (const proxy_error& e) {
    proxy_log()->warn("proxy {}: {}", self->config_.name, e.what());
    ec = asio::error::invalid_argument;
  }
  if (ec) {
    self->counters_.upstream_connect_failures_total.fetch_add(1, relaxed);
    proxy_log()->warn("proxy {}: cannot connect to upstream {}: {}", self->config_.name, upstream, ec.message());
    co_return nullptr;
  }
  if (!tls || !tls->upstream()) co_return std::make_unique<tcp_stream>(std::move(server));
  auto [uec, stream] = co_await connect_tls(std::move(server), *tls, self->protocol_->tls_request(), upstream_host, alpn, chosen);
  if (uec) {
    self->counters_.upstream_connect_failures_total.fetch_add(1, relaxed);
    proxy_log()->warn("proxy {}: TLS to upstream {} failed: {}", self->config_.name, upstream, uec.message());
    co_return nullptr;
  }
  co_return std::move(stream);
}
#pragma GCC diagnostic pop

template <typename F>
void proxy::each_connection(F f) {
  // No structured binding here: clang 14 (the fuzz build) cannot capture one.
  for (auto& entry : connections_) asio::post(entry.second->executor(), [c = entry.second, f] { f(*c); });
}

void proxy::publish_message_toxics() {
  auto list = std::make_shared<message_toxic_list>();
  for (const auto& r : toxics_)
    if (r.message_level()) list->push_back(r);
  message_toxics_ = list;
  each_connection([list](connection& c) { c.set_message_toxics(list); });
}

std::vector<installed_toxic>::iterator proxy::find(std::string_view name) {
  return std::find_if(toxics_.begin(), toxics_.end(), [&](const installed_toxic& r) { return r.name == name; });
}

void proxy::check_toxic(const installed_toxic& spec) const {
  std::lock_guard lock(mutex_);
  check_toxic_locked(spec);
}

void proxy::check_toxic_locked(const installed_toxic& spec) const {
  if (!spec.config) throw proxy_error(proxy_error::kind::invalid, "a toxic needs a type");
  if (!(spec.toxicity >= 0.0 && spec.toxicity <= 1.0))
    throw proxy_error(proxy_error::kind::invalid, fmt::format("toxicity must be between 0 and 1, got {}", spec.toxicity));
  auto wanted = spec.config->protocol();
  if (!wanted.empty() && wanted != config_.protocol)
    throw proxy_error(proxy_error::kind::invalid,
                      fmt::format("toxic type '{}' needs a proxy with protocol {}, but proxy '{}' has protocol {}",
                                  spec.config->type(), wanted, config_.name, config_.protocol));
  if (std::dynamic_pointer_cast<const tls_handshake_toxic>(spec.config) && !config_.tls.terminates())
    throw proxy_error(proxy_error::kind::invalid,
                      fmt::format("toxic type '{}' acts on TLS handshakes, but proxy '{}' does not terminate TLS; give it tls: terminate",
                                  spec.config->type(), config_.name));
  if (wanted.empty() && !std::dynamic_pointer_cast<const toxic>(spec.config))
    throw proxy_error(proxy_error::kind::invalid, fmt::format("toxic type '{}' has no byte-level behaviour", spec.config->type()));
  auto name = spec.name.empty() ? fmt::format("{}_{}", spec.config->type(), to_string(spec.stream)) : spec.name;
  if (std::any_of(toxics_.begin(), toxics_.end(), [&](const installed_toxic& r) { return r.name == name; }))
    throw proxy_error(proxy_error::kind::toxic_exists, "toxic already exists");
}

tls_handshake_faults proxy::roll_handshake_faults(std::uint64_t seed) {
  tls_handshake_faults faults;
  std::mt19937_64 random(seed);
  for (const auto& r : toxics_) {
    auto handshake = std::dynamic_pointer_cast<const tls_handshake_toxic>(r.config);
    if (!handshake) continue;
    r.counters->messages_total.fetch_add(1, relaxed);
    if (r.toxicity < 1.0 && std::uniform_real_distribution<double>(0.0, 1.0)(random) >= r.toxicity) continue;
    r.counters->messages_affected_total.fetch_add(1, relaxed);
    handshake->apply(faults);
  }
  return faults;
}

installed_toxic proxy::add_toxic(installed_toxic spec, std::uint64_t id) {
  std::lock_guard lock(mutex_);
  check_toxic_locked(spec);
  auto& r = toxics_.emplace_back(std::move(spec));
  r.id = id;
  if (r.name.empty()) r.name = fmt::format("{}_{}", r.type(), to_string(r.stream));
  r.counters = std::make_shared<toxic_counters>();
  if (r.message_level()) {
    publish_message_toxics();
  } else {
    each_connection([entry = r](connection& c) { c.add_toxic(entry); });
  }
  return r;
}

installed_toxic proxy::update_toxic(std::string_view name, std::optional<double> toxicity, std::shared_ptr<const toxic_config> config) {
  std::lock_guard lock(mutex_);
  auto it = find(name);
  if (it == toxics_.end()) throw proxy_error(proxy_error::kind::toxic_not_found, "toxic not found");
  if (toxicity && !(*toxicity >= 0.0 && *toxicity <= 1.0))
    throw proxy_error(proxy_error::kind::invalid, fmt::format("toxicity must be between 0 and 1, got {}", *toxicity));
  if (config && config->type() != it->config->type())
    throw proxy_error(proxy_error::kind::invalid,
                      fmt::format("toxic '{}' is of type {}; its type cannot change to {}", it->name, it->config->type(), config->type()));
  if (toxicity) it->toxicity = *toxicity;
  if (config) it->config = std::move(config);
  if (it->message_level()) {
    publish_message_toxics();
  } else {
    each_connection([entry = *it](connection& c) { c.update_toxic(entry); });
  }
  return *it;
}

void proxy::remove_toxic(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = find(name);
  if (it == toxics_.end()) throw proxy_error(proxy_error::kind::toxic_not_found, "toxic not found");
  auto r = *it;
  toxics_.erase(it);
  if (r.message_level()) {
    publish_message_toxics();
  } else {
    each_connection([id = r.id, d = r.stream](connection& c) { c.remove_toxic(id, d); });
  }
}

void proxy::remove_all_toxics() {
  std::lock_guard lock(mutex_);
  bool message_level = false;
  for (const auto& r : toxics_) {
    if (r.message_level()) {
      message_level = true;
      continue;
    }
    each_connection([id = r.id, d = r.stream](connection& c) { c.remove_toxic(id, d); });
  }
  toxics_.clear();
  if (message_level) publish_message_toxics();
}

std::vector<installed_toxic> proxy::toxics() const { return info().toxics; }

}  // namespace faultline::proxy
