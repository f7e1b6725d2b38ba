// TLS on the proxy over real loopback sockets: a terminating proxy with a generated CA, checked
// by curl and openssl s_client (TLS 1.2 and 1.3), byte toxics on the plaintext, 64 MiB intact
// both ways, a TLS upstream (verified, and refused when it cannot be), and the TLS-level toxics.
#include "faults/proxy/latency.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/tls_toxics.hpp"
#include "tests/faults/proxy/daemon.hpp"
#include "tests/faults/proxy/loopback.hpp"
#include "tests/support/command.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/skip.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace faultline::test;
using namespace std::chrono_literals;
namespace fp = faultline::proxy;
namespace ssl = boost::asio::ssl;
using nlohmann::json;

namespace {

void need_tools() {
  skip_unless_installed("curl", "curl");
  skip_unless_installed("openssl", "openssl");
}

fp::proxy_info add_tls_proxy(fp::proxy_set& set, const std::string& name, const std::string& upstream,
                             const json& tls = json{{"tls", "terminate"}}) {
  fp::proxy_config c;
  c.name = name;
  c.upstream = upstream;
  c.tls = fp::parse_tls_settings(tls);
  return set.add(c);
}

std::string port_of(const std::string& listen) { return listen.substr(listen.rfind(':') + 1); }

// A scratch directory removed at the end of the test.
struct scratch {
  std::filesystem::path dir;
  scratch() {
    char name[] = "/tmp/faultline-tls-test.XXXXXX";
    dir = ::mkdtemp(name);
  }
  ~scratch() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

std::string slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct curl_result {
  int exit_code = -1;
  std::string output;  // the -w line and curl's error
  double appconnect = 0, starttransfer = 0, total = 0;
};

// curl https://127.0.0.1:PORT/ trusting `ca`; the body goes to `body_file`.
curl_result curl_https(const fp::proxy_info& p, const std::string& body_file, const std::string& extra = "") {
  auto r = run_command(fmt::format("curl -sS --max-time 60 --cacert '{}' -o '{}' -w 'timing %{{time_appconnect}} %{{time_starttransfer}} %{{time_total}}\\n' "
                                   "{} https://127.0.0.1:{}/",
                                   p.tls.ca_file, body_file, extra, port_of(p.listen)));
  curl_result out{r.exit_code, r.output};
  std::istringstream line(r.output.substr(std::min(r.output.size(), r.output.find("timing "))));
  std::string word;
  line >> word >> out.appconnect >> out.starttransfer >> out.total;
  return out;
}

}  // namespace

TEST_CASE("a terminating proxy with a generated CA: curl and openssl s_client trust it over TLS 1.2 and 1.3", "[faults][proxy]") {
  need_tools();
  http_test_server web([](const http_test_request& r) { return http_test_reply{200, "hello over " + r.target}; });
  fp::proxy_set set;
  scratch tmp;
  auto p = add_tls_proxy(set, "web", "127.0.0.1:" + std::to_string(web.port()));
  REQUIRE(std::filesystem::exists(p.tls.ca_file));

  auto c = curl_https(p, tmp.file("body"));
  INFO(c.output);
  CHECK(c.exit_code == 0);
  CHECK(slurp(tmp.file("body")) == "hello over /");

  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    auto s = run_command(fmt::format("echo | timeout 20 openssl s_client {} -connect 127.0.0.1:{} -CAfile '{}' -verify_return_error "
                                     "-verify_ip 127.0.0.1 2>&1",
                                     version, port_of(p.listen), p.tls.ca_file));
    INFO(s.output);
    CHECK(s.output.find("Verify return code: 0 (ok)") != std::string::npos);
    CHECK(s.output.find(std::string("New, TLSv1.") + (std::string(version) == "-tls1_2" ? "2" : "3") + ", Cipher is ") != std::string::npos);
  }
  // Older protocols are refused.
  auto old = run_command(fmt::format("echo | timeout 20 openssl s_client -tls1_1 -cipher DEFAULT@SECLEVEL=0 -connect 127.0.0.1:{} 2>&1",
                                     port_of(p.listen)));
  INFO(old.output);
  CHECK(old.output.find("New, (NONE), Cipher is (NONE)") != std::string::npos);
  CHECK(eventually([&] { return set.stats("web").tls_handshakes_total == 3 && set.stats("web").tls_handshake_failures_total == 1; }));

  const auto ca = p.tls.ca_file;
  set.remove("web");
  CHECK(eventually([&] { return !std::filesystem::exists(ca); }));  // a throwaway CA in a temporary file goes with its proxy
}

TEST_CASE("a latency toxic on a terminating proxy delays the plaintext as on plain TCP", "[faults][proxy]") {
  need_tools();
  http_test_server web;
  fp::proxy_set set;
  scratch tmp;
  auto p = add_tls_proxy(set, "web", "127.0.0.1:" + std::to_string(web.port()));
  auto plain = curl_https(p, tmp.file("body"));
  REQUIRE(plain.exit_code == 0);

  set.add_toxic("web", {"", fp::direction::downstream, 1.0, std::make_shared<fp::latency_toxic>(400ms, 0ms)});
  auto slow = curl_https(p, tmp.file("body"));
  INFO(slow.output);
  REQUIRE(slow.exit_code == 0);
  CHECK(slow.starttransfer - slow.appconnect >= 0.4);  // the handshake is not delayed, the answer is
  CHECK(slow.appconnect < 0.4 + plain.appconnect * 10);
  CHECK(slurp(tmp.file("body")) == "ok");
}

TEST_CASE("64 MiB pass a terminating proxy intact: curl downloads them, an Asio TLS client echoes them", "[faults][proxy]") {
  need_tools();
  std::string big(64u << 20, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (auto& ch : big) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ch = static_cast<char>(x);
  }
  http_test_server web([&](const http_test_request&) { return http_test_reply{200, big}; });
  loopback_server echo(loopback_server::mode::echo);
  fp::proxy_set set;
  scratch tmp;
  auto p = add_tls_proxy(set, "web", "127.0.0.1:" + std::to_string(web.port()));
  auto c = curl_https(p, tmp.file("big"));
  INFO(c.output);
  REQUIRE(c.exit_code == 0);
  CHECK(slurp(tmp.file("big")) == big);

  auto e = add_tls_proxy(set, "echo", echo.address());
  asio::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(e.tls.ca_file);
  ctx.set_verify_mode(ssl::verify_peer);
  ssl::stream<tcp::socket> s(ioc, ctx);
  s.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(std::stoi(port_of(e.listen)))});
  s.handshake(ssl::stream_base::client);
  checksum sent, received;
  sent.add(big.data(), big.size());
  auto writer = [&]() -> asio::awaitable<void> { co_await asio::async_write(s, asio::buffer(big), asio::use_awaitable); };
  auto reader = [&]() -> asio::awaitable<void> {
    std::vector<char> buf(1 << 16);
    while (received.bytes < big.size()) {
      auto n = co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
      received.add(buf.data(), n);
    }
  };
  auto w = asio::co_spawn(ioc, writer(), asio::use_future);
  auto r = asio::co_spawn(ioc, reader(), asio::use_future);
  std::thread watchdog([&] {
    if (r.wait_for(120s) != std::future_status::ready) ioc.stop();  // a broken proxy fails the test, not hangs it
  });
  ioc.run();
  watchdog.join();
  REQUIRE(r.wait_for(0s) == std::future_status::ready);
  w.get();
  r.get();
  CHECK(received.bytes == sent.bytes);
  CHECK(received.value == sent.value);
}

TEST_CASE("upstream_tls: a plain client reaches a TLS upstream it verifies, and is refused one it cannot", "[faults][proxy]") {
  need_tools();
  http_test_server web;
  fp::proxy_set set;
  scratch tmp;
  // The TLS upstream is itself a terminating proxy, with its own throwaway CA.
  auto front = add_tls_proxy(set, "tls-front", "127.0.0.1:" + std::to_string(web.port()));
  auto trusting = add_tls_proxy(set, "trusting", front.listen, json{{"upstream_tls", {{"ca", front.tls.ca_file}}}});
  auto r = run_command(fmt::format("curl -sS --max-time 20 http://{}/", trusting.listen));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output == "ok");

  // The system's CAs do not know the throwaway CA; a wrong server name fails too.
  auto system_cas = add_tls_proxy(set, "system-cas", front.listen, json{{"upstream_tls", true}});
  auto wrong_name = add_tls_proxy(set, "wrong-name", front.listen,
                                  json{{"upstream_tls", {{"ca", front.tls.ca_file}, {"server_name", "db.example"}}}});
  for (const auto& p : {system_cas, wrong_name}) {
    auto refused = run_command(fmt::format("curl -sS --max-time 20 http://{}/", p.listen));
    INFO(p.name << ": " << refused.output);
    CHECK(refused.exit_code != 0);
    CHECK(eventually([&] { return set.stats(p.name).upstream_connect_failures_total == 1; }));
  }
  // verify: false takes any certificate.
  auto any = add_tls_proxy(set, "any", front.listen, json{{"upstream_tls", {{"verify", false}}}});
  CHECK(run_command(fmt::format("curl -sS --max-time 20 http://{}/", any.listen)).output == "ok");
}

TEST_CASE("tls_handshake_delay shows in curl's time_appconnect, tls_handshake_fail as an alert, tls_expired_cert as expiry", "[faults][proxy]") {
  need_tools();
  http_test_server web;
  fp::proxy_set set;
  scratch tmp;
  auto p = add_tls_proxy(set, "web", "127.0.0.1:" + std::to_string(web.port()));
  faultline::params delay;
  delay.set("delay", std::chrono::nanoseconds(500ms));
  auto delayed = set.add_toxic("web", {"", fp::direction::downstream, 1.0, std::make_shared<fp::tls_handshake_delay_toxic>(delay)});
  auto slow = curl_https(p, tmp.file("body"));
  INFO(slow.output);
  CHECK(slow.exit_code == 0);
  CHECK(slow.appconnect >= 0.5);
  CHECK(slow.appconnect < 10.0);
  CHECK(delayed.counters->messages_affected_total == 1);
  set.remove_toxic("web", delayed.name);

  auto fail = set.add_toxic("web", {"", fp::direction::downstream, 1.0, std::make_shared<fp::tls_handshake_fail_toxic>(faultline::params{})});
  auto failed = curl_https(p, tmp.file("body"));
  INFO(failed.output);
  CHECK(failed.exit_code == 35);  // CURLE_SSL_CONNECT_ERROR
  CHECK(failed.output.find("handshake failure") != std::string::npos);
  set.remove_toxic("web", fail.name);

  set.add_toxic("web", {"", fp::direction::downstream, 1.0, std::make_shared<fp::tls_expired_cert_toxic>(faultline::params{})});
  auto expired = curl_https(p, tmp.file("body"));
  INFO(expired.output);
  CHECK(expired.exit_code == 60);  // CURLE_PEER_FAILED_VERIFICATION
  CHECK(expired.output.find("certificate has expired") != std::string::npos);
  CHECK(eventually([&] { return set.stats("web").tls_handshake_failures_total == 2; }));
}

namespace {

// openssl s_server -www on a free loopback port with a throwaway certificate, choosing ALPN from
// `alpn` (its preference order; none when empty); stopped by its PID.
class openssl_server {
public:
  openssl_server(const scratch& tmp, const std::string& alpn) {
    auto cert = run_command(fmt::format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '{}' "
                                        "-out '{}' -days 2 -subj /CN=localhost 2>&1",
                                        tmp.file("upstream.key"), tmp.file("upstream.pem")));
    REQUIRE(cert.exit_code == 0);
    const auto openssl = run_command("command -v openssl").output;
    std::vector<std::string> argv{openssl.substr(0, openssl.find('\n')), "s_server", "-www", "-accept", "127.0.0.1:0",
                                  "-cert", tmp.file("upstream.pem"), "-key", tmp.file("upstream.key")};
    if (!alpn.empty()) argv.insert(argv.end(), {"-alpn", alpn});
    log_ = tmp.file("s_server.log");
    pid_ = spawn(argv, log_);
    REQUIRE(eventually([&] { return slurp(log_).find("ACCEPT 127.0.0.1:") != std::string::npos; }, 10s));
    const auto text = slurp(log_);
    const auto at = text.find("ACCEPT 127.0.0.1:") + std::string("ACCEPT 127.0.0.1:").size();
    address_ = "127.0.0.1:" + text.substr(at, text.find('\n', at) - at);
  }
  ~openssl_server() {
    ::kill(pid_, SIGTERM);
    if (wait_for(pid_, 5000ms) == -1) {
      ::kill(pid_, SIGKILL);
      wait_for(pid_, 5000ms);
    }
  }
  const std::string& address() const { return address_; }

private:
  pid_t pid_ = 0;
  std::string log_;
  std::string address_;
};

// What ALPN `openssl s_client -alpn OFFER` (no -alpn when empty) ends up with through proxy p.
std::string negotiated_alpn(const fp::proxy_info& p, const std::string& offer) {
  auto r = run_command(fmt::format("echo | timeout 20 openssl s_client -connect 127.0.0.1:{} -CAfile '{}' {} 2>&1", port_of(p.listen),
                                   p.tls.ca_file, offer.empty() ? "" : "-alpn " + offer));
  UNSCOPED_INFO("s_client -alpn " << offer << ": " << r.output);
  if (r.output.find("Cipher is (NONE)") != std::string::npos) return "no handshake";
  if (r.output.find("No ALPN negotiated") != std::string::npos) return "none";
  const auto at = r.output.find("ALPN protocol: ");
  if (at == std::string::npos) return "no handshake";
  const auto from = at + std::string("ALPN protocol: ").size();
  return r.output.substr(from, r.output.find('\n', from) - from);
}

}  // namespace

TEST_CASE("ALPN through a terminating proxy: a TLS upstream's choice from the client's offer, else the proxy's list", "[faults][proxy]") {
  need_tools();
  scratch tmp;
  fp::proxy_set set;
  {
    // The upstream prefers spdy/3, then h2: from the client's h2,http/1.1 it takes h2, which only
    // an offer passed through could give it (the proxy itself has no ALPN list here).
    openssl_server upstream(tmp, "spdy/3,h2");
    auto p = add_tls_proxy(set, "alpn-tls", upstream.address(), json{{"tls", "terminate"}, {"upstream_tls", {{"verify", false}}}});
    CHECK(negotiated_alpn(p, "h2,http/1.1") == "h2");
    CHECK(negotiated_alpn(p, "spdy/3,h2") == "spdy/3");
    CHECK(negotiated_alpn(p, "") == "none");  // no offer: the upstream is asked for nothing
    // The upstream refuses an offer it shares nothing with (alert 120): the client gets no handshake.
    CHECK(negotiated_alpn(p, "http/1.1") == "no handshake");
    CHECK(eventually([&] { return set.stats("alpn-tls").upstream_connect_failures_total == 1; }));
    CHECK(set.stats("alpn-tls").tls_handshakes_total == 3);
  }
  {
    // An upstream without ALPN: the client's offer reaches it and nothing is chosen.
    openssl_server upstream(tmp, "");
    auto p = add_tls_proxy(set, "alpn-none", upstream.address(), json{{"tls", "terminate"}, {"upstream_tls", {{"verify", false}}}});
    CHECK(negotiated_alpn(p, "h2,http/1.1") == "none");
  }
  // A plain upstream: the proxy chooses from its tls.alpn, in its order, what the client offered.
  http_test_server web([](const http_test_request&) { return http_test_reply{200, "plain"}; });
  auto p = add_tls_proxy(set, "alpn-list", "127.0.0.1:" + std::to_string(web.port()),
                         json{{"tls", {{"mode", "terminate"}, {"alpn", {"http/1.1", "h2"}}}}});
  CHECK(negotiated_alpn(p, "h2,http/1.1") == "http/1.1");
  CHECK(negotiated_alpn(p, "h2") == "h2");
  CHECK(negotiated_alpn(p, "spdy/3") == "none");
  // curl offers h2 and http/1.1 (when built with HTTP/2) and speaks what was chosen.
  auto c = run_command(fmt::format("curl -sS --max-time 20 --cacert '{}' -w ' %{{http_version}}' https://127.0.0.1:{}/", p.tls.ca_file,
                                   port_of(p.listen)));
  INFO(c.output);
  CHECK(c.exit_code == 0);
  CHECK(c.output == "plain 1.1");
}

TEST_CASE("TLS settings that cannot work are refused with the key and the fix", "[faults][proxy]") {
  fp::proxy_set set;
  CHECK_THROWS_WITH(add_tls_proxy(set, "files", "127.0.0.1:1",
                                  json{{"tls", {{"mode", "terminate"}, {"cert", "/nonexistent/cert.pem"}, {"key", "/nonexistent/key.pem"}}}}),
                    Catch::StartsWith("tls.cert: cannot use /nonexistent/cert.pem"));
  CHECK_THROWS_WITH(add_tls_proxy(set, "ca", "127.0.0.1:1", json{{"upstream_tls", {{"ca", "/nonexistent/ca.pem"}}}}),
                    Catch::StartsWith("upstream_tls.ca: cannot load /nonexistent/ca.pem"));
  fp::proxy_config plain;
  plain.name = "plain";
  plain.upstream = "127.0.0.1:1";
  set.add(plain);
  CHECK_THROWS_WITH(set.add_toxic("plain", {"", fp::direction::downstream, 1.0, std::make_shared<fp::tls_expired_cert_toxic>(faultline::params{})}),
                    "toxic type 'tls_expired_cert' acts on TLS handshakes, but proxy 'plain' does not terminate TLS; give it tls: terminate");
}
