// Prometheus text for GET /metrics: Toxiproxy's byte counters under their names, and faultline's
// connection, TLS and toxic counters, written through core/prometheus like the run's /metrics.
#include "faults/proxy/control_api.hpp"

namespace faultline::proxy {

prometheus::exposition proxy_metrics(const proxy_set& proxies) {
  using prometheus::metric_type;
  prometheus::exposition out;
  auto& received = out.add("toxiproxy_proxy_received_bytes_total", metric_type::counter,
                           "Bytes the proxy read, per direction of its links.");
  auto& sent = out.add("toxiproxy_proxy_sent_bytes_total", metric_type::counter, "Bytes the proxy wrote, per direction of its links.");
  auto& spliced = out.add("faultline_proxy_spliced_bytes_total", metric_type::counter,
                          "Of the bytes written, those moved by splice(2) without copying (directions without toxics).");
  auto& accepted = out.add("faultline_proxy_connections_accepted_total", metric_type::counter, "Client connections accepted.");
  auto& active = out.add("faultline_proxy_connections_active", metric_type::gauge, "Proxied connections open now.");
  auto& closed = out.add("faultline_proxy_connections_closed_total", metric_type::counter, "Proxied connections that ended.");
  auto& failures = out.add("faultline_proxy_upstream_connect_failures_total", metric_type::counter,
                           "Connections to the upstream that failed (TCP, or TLS to a TLS upstream).");
  auto& enabled = out.add("faultline_proxy_enabled", metric_type::gauge, "1 when the proxy listens, 0 when it is disabled (down).");
  auto& handshakes = out.add("faultline_proxy_tls_handshakes_total", metric_type::counter,
                             "Client TLS handshakes completed (proxies with tls: terminate).");
  auto& handshake_failures = out.add("faultline_proxy_tls_handshake_failures_total", metric_type::counter,
                                     "Client TLS handshakes that failed, injected ones too (proxies with tls: terminate).");
  auto& toxics = out.add("faultline_proxy_toxic_effect_total", metric_type::counter,
                         "What each active toxic did (counter: bytes_delayed_total, bytes_dropped_total, ...).");

  for (const auto& p : proxies.list()) {
    proxy_stats s;
    try {
      s = proxies.stats(p.name);
    } catch (const proxy_error&) {
      continue;  // removed meanwhile
    }
    for (const auto& [d, stats] : {std::pair{"upstream", s.upstream}, std::pair{"downstream", s.downstream}}) {
      const prometheus::labels l{{"direction", d}, {"listener", p.listen}, {"proxy", p.name}, {"upstream", p.upstream}};
      received.add(l, static_cast<double>(stats.bytes_received_total));
      sent.add(l, static_cast<double>(stats.bytes_sent_total));
      spliced.add(l, static_cast<double>(stats.bytes_spliced_total));
    }
    const prometheus::labels by_proxy{{"proxy", p.name}};
    accepted.add(by_proxy, static_cast<double>(s.connections_accepted_total));
    active.add(by_proxy, static_cast<double>(s.connections_active));
    closed.add(by_proxy, static_cast<double>(s.connections_closed_total));
    failures.add(by_proxy, static_cast<double>(s.upstream_connect_failures_total));
    enabled.add(by_proxy, p.enabled ? 1 : 0);
    if (p.tls.client == tls_settings::mode::terminate) {
      handshakes.add(by_proxy, static_cast<double>(s.tls_handshakes_total));
      handshake_failures.add(by_proxy, static_cast<double>(s.tls_handshake_failures_total));
    }
    for (const auto& t : p.toxics)
      t.counters->snapshot().for_each([&](const char* counter, std::uint64_t value) {
        toxics.add({{"counter", counter}, {"proxy", p.name}, {"stream", to_string(t.stream)}, {"toxic", t.name},
                    {"type", std::string(t.type())}},
                   static_cast<double>(value));
      });
  }
  return out;
}

std::string render_metrics(const proxy_set& proxies) { return proxy_metrics(proxies).text(); }

}  // namespace faultline::proxy
