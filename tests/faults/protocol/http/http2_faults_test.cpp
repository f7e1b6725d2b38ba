// The http and grpc faults on HTTP/2 through a `protocol: http` proxy: h2load (Debian's
// nghttp2-client) against nginx speaking h2c, and a real gRPC server and client in Python
// (python3-grpcio, tests/faults/protocol/http/grpc_check.py); injected as an experiment would.
#include "faults/proxy/proxy_set.hpp"
#include "tests/faults/protocol/fault_helpers.hpp"
#include "tests/support/command.hpp"
#include "tests/support/real_servers.hpp"
#include "tests/support/skip.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace faultline;
using namespace faultline::test;
using namespace std::chrono_literals;
namespace fp = faultline::proxy;

namespace {

// A `protocol: http` proxy in front of `upstream`, and faults injected on it.
struct proxied {
  fp::proxy_set proxies;
  std::string listen;
  boost::asio::io_context ioc;

  explicit proxied(const std::string& upstream) {
    fp::proxy_config c;
    c.name = "api";
    c.upstream = upstream;
    c.protocol = "http";
    listen = proxies.add(c).listen;
  }
  std::string url(const std::string& path) const { return "http://" + listen + path; }
  std::unique_ptr<faults::fault> inject(const char* type, std::map<std::string, param_value> values) {
    const auto& t = fault_type_named(type);
    auto f = t.create(fault_params(t, std::move(values)), {ioc.get_executor(), &proxies, "api", type});
    run_to_end(ioc, f->inject());
    return f;
  }
};

// nginx on h2c (prior knowledge) serving /api/orders, /api/big (1 MiB) and /health.
struct h2_setup {
  nginx_file_server nginx{nginx_file_server::with_http2{}};
  std::unique_ptr<proxied> proxy;

  h2_setup() {
    run_command("mkdir -p '" + nginx.www() + "/api'");
    write_file(nginx.www() + "/api/orders", "orders\n");
    write_file(nginx.www() + "/api/big", std::string(1u << 20, 'b'));
    write_file(nginx.www() + "/health", "ok\n");
    proxy = std::make_unique<proxied>(nginx.address());
  }
};


// h2load's "status codes: N 2xx, N 3xx, N 4xx, N 5xx" and "requests: ... N done" (its "succeeded"
// leaves out 4xx and 5xx answers).
struct h2load_outcome {
  int ok = 0, client_errors = 0, server_errors = 0, done = 0;
};

h2load_outcome h2load(const std::string& args) {
  auto r = run_command("h2load " + args + " 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  h2load_outcome out;
  std::smatch m;
  REQUIRE(std::regex_search(r.output, m, std::regex(R"(status codes: (\d+) 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx)")));
  out.ok = std::stoi(m[1]);
  out.client_errors = std::stoi(m[2]);
  out.server_errors = std::stoi(m[3]);
  REQUIRE(std::regex_search(r.output, m, std::regex(R"((\d+) done)")));
  out.done = std::stoi(m[1]);
  return out;
}

// h2load's "time for request: MIN MAX MEAN ..." in seconds (it prints us, ms or s).
std::pair<double, double> request_time_range(const std::string& output) {
  std::smatch m;
  REQUIRE(std::regex_search(output, m, std::regex(R"(time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s))")));
  auto seconds = [&](int value, int unit) {
    double scale = m[unit] == "us" ? 1e-6 : m[unit] == "ms" ? 1e-3 : 1.0;
    return std::stod(m[value]) * scale;
  };
  return {seconds(1, 2), seconds(3, 4)};
}

// One `curl --http2-prior-knowledge` request, on a connection of its own: Debian 12's curl 7.88.1
// fails the second request on a reused prior-knowledge connection ("Error in the HTTP2 framing
// layer", against nginx directly too; curl/curl#10634, fixed in curl 8.0), so streams sharing a
// connection are h2load's part.
struct curl_answer {
  std::string version, status, retry_after;
  double seconds = 0;
};

curl_answer curl_h2(const std::string& url) {
  auto r = run_command("curl -sS --http2-prior-knowledge -o /dev/null -D - -w 'version=%{http_version} status=%{http_code} seconds=%{time_total}\\n' '" +
                       url + "' 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  curl_answer a;
  std::smatch m;
  REQUIRE(std::regex_search(r.output, m, std::regex(R"(version=(\S+) status=(\d+) seconds=([\d.]+))")));
  a.version = m[1];
  a.status = m[2];
  a.seconds = std::stod(m[3]);
  if (std::regex_search(r.output, m, std::regex(R"([Rr]etry-[Aa]fter: (\S+))"))) a.retry_after = m[1];
  return a;
}

// Debian's python (not a pyenv or venv one first on PATH): python3-grpcio installs for it.
constexpr const char* debian_python = "/usr/bin/python3";

// The gRPC server of grpc_check.py, stopped (by its PID) when the test ends.
class grpc_server {
public:
  grpc_server() {
    if (run_command(std::string(debian_python) + " -c 'import grpc'").exit_code != 0)
      skip("python3-grpcio is not installed for /usr/bin/python3; install the Debian package python3-grpcio");
    out_ = popen(("exec " + std::string(debian_python) + " '" + script_ + "' serve").c_str(), "r");
    REQUIRE(out_);
    char line[128] = {};
    if (std::fgets(line, sizeof line, out_)) std::sscanf(line, "port=%d pid=%d", &port_, &pid_);
    if (port_ <= 0) {
      stop();
      FAIL("grpc_check.py serve did not start");
    }
  }
  ~grpc_server() { stop(); }
  grpc_server(const grpc_server&) = delete;
  grpc_server& operator=(const grpc_server&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string call(const std::string& through, const std::string& options = "") const {
    return run_command(std::string(debian_python) + " '" + script_ + "' call " + through + options).output;
  }

private:
  void stop() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    pid_ = 0;
    if (out_) pclose(out_);
    out_ = nullptr;
  }

  std::string script_ = source_dir() + "/tests/faults/protocol/http/grpc_check.py";
  FILE* out_ = nullptr;
  int port_ = 0;
  int pid_ = 0;
};

}  // namespace

TEST_CASE("HTTP/2 http_abort answers matching streams only and the others on the same connection pass", "[faults][protocol]") {
  skip_unless_installed("h2load", "nghttp2-client");
  h2_setup s;
  auto f = s.proxy->inject("http_abort", {{"status", std::int64_t{503}}, {"path", std::string("/api/*")}});
  // One connection, 20 streams at a time, alternating between the two paths.
  auto o = h2load("-n 400 -c 1 -m 20 '" + s.proxy->url("/api/orders") + "' '" + s.proxy->url("/health") + "'");
  CHECK(o.done == 400);
  CHECK(o.server_errors == 200);
  CHECK(o.ok == 200);
}

TEST_CASE("HTTP/2 http_delay holds the matching streams only and the others on the same connection pass", "[faults][protocol]") {
  skip_unless_installed("h2load", "nghttp2-client");
  h2_setup s;
  auto f = s.proxy->inject("http_delay", {{"delay", std::chrono::nanoseconds(1500ms)}, {"path", std::string("/api/*")}});
  // One connection, both streams open at once: the /health answer must not wait behind /api.
  auto r = run_command("h2load -n 2 -c 1 -m 2 '" + s.proxy->url("/api/orders") + "' '" + s.proxy->url("/health") + "' 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  auto [fastest, slowest] = request_time_range(r.output);
  CHECK(slowest >= 1.45);  // a delay is a lower bound, whatever the load
  CHECK(fastest < 0.75);   // wide: the other stream only must not wait 1.5 s
}

TEST_CASE("curl with HTTP/2 prior knowledge sees the abort and the delay on matching paths only", "[faults][protocol]") {
  skip_unless_installed("curl", "curl");
  h2_setup s;
  {
    auto f = s.proxy->inject("http_abort", {{"status", std::int64_t{503}},
                                            {"path", std::string("/api/*")},
                                            {"response_headers", std::map<std::string, std::string>{{"Retry-After", "7"}}}});
    auto aborted = curl_h2(s.proxy->url("/api/orders"));
    CHECK(aborted.version == "2");
    CHECK(aborted.status == "503");
    CHECK(aborted.retry_after == "7");
    auto passed = curl_h2(s.proxy->url("/health"));
    CHECK(passed.version == "2");
    CHECK(passed.status == "200");
    run_to_end(s.proxy->ioc, f->revert());
  }
  CHECK(curl_h2(s.proxy->url("/api/orders")).status == "200");
  auto f = s.proxy->inject("http_delay", {{"delay", std::chrono::nanoseconds(1s)}, {"path", std::string("/api/*")}});
  auto held = curl_h2(s.proxy->url("/api/orders"));
  CHECK(held.status == "200");
  CHECK(held.seconds >= 0.95);
  auto other = curl_h2(s.proxy->url("/health"));
  CHECK(other.status == "200");
  CHECK(other.seconds < 0.5);
}

TEST_CASE("HTTP/2 http_abort on a percentage of streams gives that share", "[faults][protocol]") {
  skip_unless_installed("h2load", "nghttp2-client");
  h2_setup s;
  auto f = s.proxy->inject("http_abort", {{"status", std::int64_t{503}}, {"path", std::string("/api/*")}, {"probability", 0.3}});
  auto o = h2load("-n 4000 -c 2 -m 20 '" + s.proxy->url("/api/orders") + "'");
  CHECK(o.done == 4000);
  CHECK(o.ok + o.server_errors == 4000);
  // 30 % of 4000 = 1200; the binomial's standard deviation is 29: 5 of them either way.
  CHECK(o.server_errors > 1055);
  CHECK(o.server_errors < 1345);
}

TEST_CASE("grpc_abort UNAVAILABLE on one method is seen by a real gRPC client and the other method succeeds", "[faults][protocol]") {
  grpc_server server;
  proxied p(server.address());
  CHECK(server.call(p.listen) == "Say OK said hello\nShout OK SHOUTED HELLO\n");
  auto f = p.inject("grpc_abort", {{"code", std::string("UNAVAILABLE")}, {"message", std::string("payments are down")}, {"service", std::string("test.Echo")},
                                   {"rpc", std::string("Shout")}});
  CHECK(server.call(p.listen) == "Say OK said hello\nShout UNAVAILABLE payments are down\n");
  run_to_end(p.ioc, f->revert());
  CHECK(server.call(p.listen) == "Say OK said hello\nShout OK SHOUTED HELLO\n");
}

TEST_CASE("grpc_delay holds the matching gRPC method only", "[faults][protocol]") {
  grpc_server server;
  proxied p(server.address());
  auto f = p.inject("grpc_delay", {{"delay", std::chrono::nanoseconds(3s)}, {"service", std::string("test.*")}, {"rpc", std::string("Say")}});
  std::istringstream lines(server.call(p.listen, " --times"));
  std::map<std::string, double> took;
  std::string method, ok, word, reply;
  double seconds = 0;
  while (lines >> method >> ok >> word >> reply >> seconds) {
    CHECK(ok == "OK");
    took[method] = seconds;
  }
  REQUIRE(took.size() == 2);
  CHECK(took["Say"] >= 2.95);  // a delay is a lower bound, whatever the load
  CHECK(took["Shout"] < took["Say"] - 1.0);  // wide: the other call only must not wait 3 s
}
