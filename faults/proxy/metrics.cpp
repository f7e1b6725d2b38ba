// Prometheus text for GET /metrics: Toxiproxy's byte counters under their names, and faultline's
// connection and toxic counters.
#include "faults/proxy/control_api.hpp"

#include <fmt/format.h>

namespace faultline::proxy {
namespace {

std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

struct family {
  const char* name;
  const char* type;
  const char* help;
  std::string samples;
};

}  // namespace

std::string render_metrics(const proxy_set& proxies) {
  family received{"toxiproxy_proxy_received_bytes_total", "counter", "Bytes the proxy read, per direction of its links.", {}};
  family sent{"toxiproxy_proxy_sent_bytes_total", "counter", "Bytes the proxy wrote, per direction of its links.", {}};
  family spliced{"faultline_proxy_spliced_bytes_total", "counter",
                 "Of the bytes written, those moved by splice(2) without copying (directions without toxics).", {}};
  family accepted{"faultline_proxy_connections_accepted_total", "counter", "Client connections accepted.", {}};
  family active{"faultline_proxy_connections_active", "gauge", "Proxied connections open now.", {}};
  family closed{"faultline_proxy_connections_closed_total", "counter", "Proxied connections that ended.", {}};
  family failures{"faultline_proxy_upstream_connect_failures_total", "counter", "Connections to the upstream that failed.", {}};
  family enabled{"faultline_proxy_enabled", "gauge", "1 when the proxy listens, 0 when it is disabled (down).", {}};
  family toxics{"faultline_proxy_toxic_effect_total", "counter",
                "What each active toxic did (counter: bytes_delayed_total, bytes_dropped_total, ...).", {}};

  for (const auto& p : proxies.list()) {
    proxy_stats s;
    try {
      s = proxies.stats(p.name);
    } catch (const proxy_error&) {
      continue;  // removed meanwhile
    }
    for (auto [d, stats] : {std::pair{"upstream", s.upstream}, std::pair{"downstream", s.downstream}}) {
      auto labels = fmt::format("direction=\"{}\",listener=\"{}\",proxy=\"{}\",upstream=\"{}\"", d, label(p.listen), label(p.name),
                                label(p.upstream));
      received.samples += fmt::format("{}{{{}}} {}\n", received.name, labels, stats.bytes_received_total);
      sent.samples += fmt::format("{}{{{}}} {}\n", sent.name, labels, stats.bytes_sent_total);
      spliced.samples += fmt::format("{}{{{}}} {}\n", spliced.name, labels, stats.bytes_spliced_total);
    }
    auto by_proxy = fmt::format("proxy=\"{}\"", label(p.name));
    accepted.samples += fmt::format("{}{{{}}} {}\n", accepted.name, by_proxy, s.connections_accepted_total);
    active.samples += fmt::format("{}{{{}}} {}\n", active.name, by_proxy, s.connections_active);
    closed.samples += fmt::format("{}{{{}}} {}\n", closed.name, by_proxy, s.connections_closed_total);
    failures.samples += fmt::format("{}{{{}}} {}\n", failures.name, by_proxy, s.upstream_connect_failures_total);
    enabled.samples += fmt::format("{}{{{}}} {}\n", enabled.name, by_proxy, p.enabled ? 1 : 0);
    for (const auto& t : p.toxics)
      t.counters->snapshot().for_each([&](const char* counter, std::uint64_t value) {
        toxics.samples += fmt::format("{}{{counter=\"{}\",proxy=\"{}\",stream=\"{}\",toxic=\"{}\",type=\"{}\"}} {}\n", toxics.name, counter,
                                      label(p.name), to_string(t.stream), label(t.name), label(std::string(t.type())), value);
      });
  }

  std::string out;
  for (const auto* f : {&received, &sent, &spliced, &accepted, &active, &closed, &failures, &enabled, &toxics})
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}", f->name, f->help, f->name, f->type, f->samples);
  return out;
}

}  // namespace faultline::proxy
