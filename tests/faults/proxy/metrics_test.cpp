// The proxies' Prometheus families (GET /metrics of the daemon, appended to a run's): written by
// core/prometheus (escaped label values), the TLS handshake counters of terminating proxies, and
// a family left out when it has no samples.
#include "faults/proxy/control_api.hpp"
#include "faults/proxy/latency.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "tests/faults/proxy/loopback.hpp"
#include "tests/support/eventually.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using namespace std::chrono_literals;
namespace fp = faultline::proxy;
namespace prom = faultline::prometheus;

namespace {

fp::proxy_info add_proxy(fp::proxy_set& set, const std::string& name, const std::string& upstream,
                         const nlohmann::json& tls = nullptr) {
  fp::proxy_config c;
  c.name = name;
  c.upstream = upstream;
  if (!tls.is_null()) c.tls = fp::parse_tls_settings(tls);
  return set.add(c);
}

bool has_line(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

}  // namespace

TEST_CASE("no proxies: no proxy families at all", "[faults][proxy]") {
  fp::proxy_set set;
  CHECK(fp::render_metrics(set).empty());
}

TEST_CASE("proxy metrics: label values escaped as core/prometheus escapes them, counters per proxy and direction", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  const std::string odd = "we\"ird\\name";
  auto p = add_proxy(set, odd, echo.address());
  set.add_toxic(odd, {"slow", fp::direction::downstream, 1.0, std::make_shared<fp::latency_toxic>(1ms, 0ms)});
  asio::io_context ioc;
  auto s = connect_to(ioc, p.listen);
  asio::write(s, asio::buffer(std::string("ping")));
  boost::system::error_code ec;
  CHECK(read_exactly(s, 4, ec) == "ping");
  REQUIRE(eventually([&] { return set.stats(odd).downstream.bytes_sent_total == 4; }));

  const auto text = fp::render_metrics(set);
  INFO(text);
  const auto label = prom::escape_label_value(odd);
  CHECK(label == "we\\\"ird\\\\name");
  CHECK(has_line(text, "toxiproxy_proxy_sent_bytes_total{direction=\"downstream\",listener=\"" + p.listen + "\",proxy=\"" + label +
                           "\",upstream=\"" + echo.address() + "\"} 4"));
  CHECK(has_line(text, "faultline_proxy_connections_accepted_total{proxy=\"" + label + "\"} 1"));
  CHECK(has_line(text, "faultline_proxy_enabled{proxy=\"" + label + "\"} 1"));
  CHECK(text.find("faultline_proxy_toxic_effect_total{counter=\"links_total\",proxy=\"" + label +
                  "\",stream=\"downstream\",toxic=\"slow\",type=\"latency\"}") != std::string::npos);
  // Each family once, with HELP and TYPE; a plain proxy has no TLS handshakes to count.
  CHECK(has_line(text, "# TYPE toxiproxy_proxy_received_bytes_total counter"));
  CHECK(has_line(text, "# TYPE faultline_proxy_connections_active gauge"));
  CHECK(text.find("tls_handshake") == std::string::npos);
  const auto families = fp::proxy_metrics(set);
  CHECK(families.find("faultline_proxy_tls_handshakes_total") != nullptr);  // declared, but without samples
  CHECK(families.find("faultline_proxy_tls_handshakes_total")->empty());
}

TEST_CASE("a terminating proxy exports its TLS handshake counters", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  add_proxy(set, "plain", echo.address());
  auto p = add_proxy(set, "web", echo.address(), nlohmann::json{{"tls", "terminate"}});
  // A client that is not TLS at all fails its handshake.
  asio::io_context ioc;
  auto s = connect_to(ioc, p.listen);
  asio::write(s, asio::buffer(std::string("GET / HTTP/1.1\r\n\r\n")));
  REQUIRE(eventually([&] { return set.stats("web").tls_handshake_failures_total == 1; }));

  const auto text = fp::render_metrics(set);
  INFO(text);
  CHECK(has_line(text, "faultline_proxy_tls_handshakes_total{proxy=\"web\"} 0"));
  CHECK(has_line(text, "faultline_proxy_tls_handshake_failures_total{proxy=\"web\"} 1"));
  CHECK(text.find("tls_handshakes_total{proxy=\"plain\"}") == std::string::npos);
}
