// The http faults against a real nginx through a `protocol: http` proxy, with curl, wrk and a raw
// socket as clients; injected through the fault types as an experiment would.
#include "faults/proxy/proxy_set.hpp"
#include "tests/faults/protocol/fault_helpers.hpp"
#include "tests/support/command.hpp"
#include "tests/support/real_servers.hpp"
#include "tests/support/skip.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

using namespace faultline;
using namespace faultline::test;
using namespace std::chrono_literals;
namespace fp = faultline::proxy;

namespace {

// An nginx serving /api/orders, /api/slow and /health, and a `protocol: http` proxy in front.
struct http_setup {
  nginx_file_server nginx;
  fp::proxy_set proxies;
  std::string listen;
  boost::asio::io_context ioc;

  http_setup() {
    run_command("mkdir -p '" + nginx.www() + "/api'");
    write_file(nginx.www() + "/api/orders", "orders\n");
    write_file(nginx.www() + "/api/slow", "slow\n");
    write_file(nginx.www() + "/health", "ok\n");
    fp::proxy_config c;
    c.name = "api";
    c.upstream = nginx.address();
    c.protocol = "http";
    listen = proxies.add(c).listen;
  }
  std::string url(const std::string& path) const { return "http://" + listen + path; }
  std::unique_ptr<faults::fault> fault(const char* type, std::map<std::string, param_value> values) {
    const auto& t = fault_type_named(type);
    return t.create(fault_params(t, std::move(values)), {ioc.get_executor(), &proxies, "api", type});
  }
  void inject(faults::fault& f) { run_to_end(ioc, f.inject()); }
  void revert(faults::fault& f) { run_to_end(ioc, f.revert()); }
};

// Runs curl on many URLs over one connection (curl's [a-b] globbing); the status of each and how
// many connections curl opened for it (0: it reused the connection).
struct curl_outcome {
  std::map<int, int> statuses;
  int connects = 0;
  int requests = 0;
};

curl_outcome curl_many(const std::string& url, const std::string& extra = "") {
  auto r = run_command("curl -s -o /dev/null -w '%{http_code} %{num_connects}\\n' " + extra + " '" + url + "'");
  REQUIRE(r.exit_code == 0);
  curl_outcome out;
  std::istringstream lines(r.output);
  int status = 0, connects = 0;
  while (lines >> status >> connects) {
    ++out.statuses[status];
    out.connects += connects;
    ++out.requests;
  }
  return out;
}

// wrk for `seconds` on one URL over 4 kept-alive connections: how many answers it read, how many
// were not 2xx or 3xx, and its "Socket errors" line (empty when there were none).
struct wrk_outcome {
  long requests = 0;
  long non_2xx = 0;
  std::string socket_errors;
};

wrk_outcome wrk(const std::string& url, int seconds) {
  skip_unless_installed("wrk", "wrk");
  auto r = run_command("wrk -t1 -c4 -d" + std::to_string(seconds) + "s '" + url + "' 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  wrk_outcome out;
  std::smatch m;
  REQUIRE(std::regex_search(r.output, m, std::regex(R"((\d+) requests in)")));
  out.requests = std::stol(m[1]);
  if (std::regex_search(r.output, m, std::regex(R"(Non-2xx or 3xx responses: (\d+))"))) out.non_2xx = std::stol(m[1]);
  if (std::regex_search(r.output, m, std::regex(R"(Socket errors:[^\n]*)"))) out.socket_errors = m[0];
  return out;
}

// Sends `request` on a fresh connection and returns what comes back until `until_bytes` bytes
// or the end of the connection.
std::string exchange(const std::string& address, const std::string& request, std::size_t until_bytes) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  auto colon = address.rfind(':');
  socket.connect({boost::asio::ip::make_address(address.substr(0, colon)), static_cast<unsigned short>(std::stoi(address.substr(colon + 1)))});
  boost::asio::write(socket, boost::asio::buffer(request));
  std::string got;
  std::array<char, 4096> buf{};
  while (got.size() < until_bytes) {
    boost::system::error_code ec;
    auto n = socket.read_some(boost::asio::buffer(buf), ec);
    got.append(buf.data(), n);
    if (ec) break;
  }
  return got;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("http_abort answers 30 percent of GET /api/* with 503 and leaves other paths alone", "[faults][protocol]") {
  http_setup s;
  auto f = s.fault("http_abort", {{"status", std::int64_t{503}},
                                  {"path", std::string("/api/*")},
                                  {"method", std::vector<std::string>{"GET"}},
                                  {"probability", 0.3}});
  s.inject(*f);
  constexpr int n = 10000;
  auto api = curl_many(s.url("/api/orders?i=[1-" + std::to_string(n) + "]"));
  CHECK(api.requests == n);
  CHECK(api.statuses[200] + api.statuses[503] == n);
  const double share = api.statuses[503] / double(n);
  CHECK(share >= 0.28);
  CHECK(share <= 0.32);
  CHECK(api.connects == 1);  // every injected answer left the keep-alive connection usable

  auto health = curl_many(s.url("/health?i=[1-2000]"));
  CHECK(health.statuses[200] == 2000);
  CHECK(health.connects == 1);
  auto head = curl_many(s.url("/api/orders?i=[1-200]"), "-I");  // another method: not matched
  CHECK(head.statuses[200] == 200);

  auto e = f->collect_evidence();
  CHECK(e.observed);
  CHECK(e.details["affected"] == api.statuses[503]);
  CHECK(e.details["matched"] == n);
  const auto& route = e.details["routes"]["GET /api/orders"];
  CHECK(route["seen"] == n);
  CHECK(route["matched"] == n);
  CHECK(route["affected"] == api.statuses[503]);
  CHECK(e.details["routes"]["GET /health"]["matched"] == 0);
  CHECK(e.details["routes"]["GET /health"]["seen"] == 2000);
  s.revert(*f);
}

TEST_CASE("wrk through the proxy sees http_abort on 30 percent of GET /api/* and none elsewhere, with no socket errors", "[faults][protocol]") {
  http_setup s;
  auto f = s.fault("http_abort", {{"status", std::int64_t{503}}, {"path", std::string("/api/*")}, {"probability", 0.3}});
  s.inject(*f);
  auto api = wrk(s.url("/api/orders"), 2);
  CHECK(api.requests >= 2000);  // tens of thousands on a quiet machine; 2 points is many sigma at 2,000
  const double share = static_cast<double>(api.non_2xx) / static_cast<double>(api.requests);
  CHECK(share >= 0.28);
  CHECK(share <= 0.32);
  CHECK(api.socket_errors.empty());  // an injected answer leaves the connection usable
  auto health = wrk(s.url("/health"), 1);
  CHECK(health.requests > 0);
  CHECK(health.non_2xx == 0);
  CHECK(health.socket_errors.empty());
  s.revert(*f);
}

TEST_CASE("http_abort gives its status, body and headers, only to requests with the chosen header", "[faults][protocol]") {
  http_setup s;
  auto f = s.fault("http_abort", {{"status", std::int64_t{503}},
                                  {"body", std::string("down for maintenance")},
                                  {"response_headers", std::map<std::string, std::string>{{"Retry-After", "5"}}},
                                  {"headers", std::map<std::string, std::string>{{"x-canary", "tr*"}}}});
  s.inject(*f);
  auto canary = run_command("curl -s -i -H 'X-Canary: true' '" + s.url("/health") + "'");
  CHECK_THAT(canary.output, Catch::StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  CHECK_THAT(canary.output, Catch::Contains("Retry-After: 5\r\n"));
  CHECK_THAT(canary.output, Catch::Contains("Content-Length: 20\r\n"));
  CHECK_THAT(canary.output, Catch::EndsWith("\r\n\r\ndown for maintenance"));
  auto plain = run_command("curl -s -i '" + s.url("/health") + "'");
  CHECK_THAT(plain.output, Catch::StartsWith("HTTP/1.1 200 OK\r\n"));
  CHECK_THAT(plain.output, Catch::EndsWith("\r\n\r\nok\n"));
  s.revert(*f);
  canary = run_command("curl -s -i -H 'X-Canary: true' '" + s.url("/health") + "'");
  CHECK_THAT(canary.output, Catch::StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_CASE("pipelined requests keep their order when some are answered by the fault or delayed", "[faults][protocol]") {
  http_setup s;
  auto abort = s.fault("http_abort", {{"status", std::int64_t{429}}, {"body", std::string("no")}, {"path", std::string("/api/orders")}});
  auto delay = s.fault("http_delay", {{"delay", std::chrono::nanoseconds(100ms)}, {"path", std::string("/api/slow")}});
  s.inject(*abort);
  s.inject(*delay);
  const std::string host = "Host: x\r\n\r\n";
  const std::string request = "GET /api/slow HTTP/1.1\r\n" + host + "GET /api/orders HTTP/1.1\r\n" + host + "GET /health HTTP/1.1\r\n" + host +
                              "GET /api/orders HTTP/1.1\r\n" + host + "GET /api/slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto got = exchange(s.listen, request, std::size_t(-1));  // until nginx closes after the last
  std::vector<std::size_t> at;
  for (const char* body : {"\r\n\r\nslow\n", "\r\n\r\nno", "\r\n\r\nok\n", "\r\n\r\nno", "\r\n\r\nslow\n"}) {
    auto from = at.empty() ? 0 : at.back() + 1;
    auto pos = got.find(body, from);
    INFO(got);
    REQUIRE(pos != std::string::npos);
    at.push_back(pos);
  }
  CHECK(count_of(got, "HTTP/1.1 429 Too Many Requests\r\n") == 2);
  CHECK(count_of(got, "HTTP/1.1 200 OK\r\n") == 3);
  s.revert(*abort);
  s.revert(*delay);
}

TEST_CASE("http_delay holds matching responses only", "[faults][protocol]") {
  http_setup s;
  auto f = s.fault("http_delay", {{"delay", std::chrono::nanoseconds(1s)}, {"path", std::string("/api/slow")}});
  s.inject(*f);
  auto slow = run_command("curl -s -o /dev/null -w '%{http_code} %{time_total}' '" + s.url("/api/slow") + "'");
  auto fast = run_command("curl -s -o /dev/null -w '%{http_code} %{time_total}' '" + s.url("/api/orders") + "'");
  std::istringstream a(slow.output), b(fast.output);
  int status_slow = 0, status_fast = 0;
  double t_slow = 0, t_fast = 0;
  a >> status_slow >> t_slow;
  b >> status_fast >> t_fast;
  CHECK(status_slow == 200);
  CHECK(status_fast == 200);
  CHECK(t_slow >= 1.0);
  CHECK(t_fast < 0.9);
  auto e = f->collect_evidence();
  CHECK(e.details["affected"] == 1);
  CHECK(e.details["routes"]["GET /api/slow"]["affected"] == 1);
  s.revert(*f);
}

TEST_CASE("http_rate_limit lets 100 requests per second through and answers the rest 429", "[faults][protocol]") {
  http_setup s;
  auto f = s.fault("http_rate_limit", {{"rate", 100.0}, {"path", std::string("/api/*")}});
  s.inject(*f);
  const auto start = std::chrono::steady_clock::now();
  auto api = curl_many(s.url("/api/orders?i=[1-3000]"));
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("elapsed " << elapsed << " s, 200: " << api.statuses[200] << ", 429: " << api.statuses[429]);
  CHECK(api.statuses[200] + api.statuses[429] == 3000);
  CHECK(api.statuses[200] <= 100 * elapsed + 2);  // the requests were all sent within `elapsed`
  CHECK(api.statuses[200] >= 100 * elapsed * 0.8 - 5);  // curl spends a little of it starting
  CHECK(api.statuses[429] > 0);
  CHECK(api.connects == 1);
  auto refused = run_command("curl -s -i '" + s.url("/api/orders") + "'");
  if (refused.output.rfind("HTTP/1.1 429", 0) == 0) CHECK_THAT(refused.output, Catch::Contains("retry-after: 1\r\n"));
  auto health = curl_many(s.url("/health?i=[1-300]"));
  CHECK(health.statuses[200] == 300);
  s.revert(*f);
}

TEST_CASE("http_rate_limit 100/s under a 500 req/s open-model load lets 100 a second through and answers the rest 429", "[faults][protocol]") {
  http_setup s;
  auto f = s.fault("http_rate_limit", {{"rate", 100.0}, {"path", std::string("/api/*")}});
  s.inject(*f);
  const auto timeline = s.nginx.directory() + "/load-timeline.json";
  // faultline's own load generator: arrivals at 500/s whatever the answers, per-second windows.
  // (In braces: run_command sends the command's stderr, the live lines, to its output.)
  auto r = run_command("{ " + faultline_binary() + " load '" + s.url("/api/orders") + "' --rate 500/s -d 6s --expect-status 200 --json --timeline '" +
                       timeline + "' 2>/dev/null; }");
  s.revert(*f);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto summary = nlohmann::json::parse(r.output);
  const auto& outcomes = summary["outcomes"];
  // Every request answered, each either let through (200) or refused (429: a 4xx, nginx has the file).
  CHECK(summary["requests"]["scheduled"] == 3000);
  CHECK(summary["requests"]["dropped"] == 0);
  CHECK(outcomes["ok"].get<int>() + outcomes["http_4xx"].get<int>() == 3000);
  CHECK(outcomes["ok"].get<int>() > 0);

  std::ifstream in(timeline);
  const auto windows = nlohmann::json::parse(in)["series"]["load"]["windows"];
  REQUIRE(windows.size() >= 6);
  std::vector<int> through;  // per whole second of sending
  for (std::size_t i = 0; i < 6; ++i) through.push_back(windows[i]["outcomes"].value("ok", 0));
  INFO("let through per second: " << nlohmann::json(through).dump());
  // A limiter never lets more through than its rate (+1 for the bucket's one token of burst, +4
  // for requests a window boundary splits); a busy machine can only make it fewer (a stall of the
  // proxy loses the tokens the one-token bucket cannot hold), so the lower bounds are on the
  // median second and on the total.
  for (int n : through) CHECK(n <= 105);
  auto sorted = through;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted[3] >= 95);
  CHECK(outcomes["ok"].get<int>() >= 540);
}

TEST_CASE("http_reset cuts matching responses and new connections still work", "[faults][protocol]") {
  http_setup s;
  write_file(s.nginx.www() + "/api/big", std::string(100000, 'x'));
  auto closing = s.fault("http_reset", {{"after", std::int64_t{1000}}, {"mode", std::string("close")}, {"path", std::string("/api/big")}});
  s.inject(*closing);
  auto cut = run_command("curl -s -o /dev/null -w '%{size_download}' '" + s.url("/api/big") + "'");
  CHECK(cut.exit_code == 18);  // curl: transfer closed with outstanding read data remaining
  CHECK(cut.output == "1000");
  auto fine = run_command("curl -s '" + s.url("/health") + "'");
  CHECK(fine.exit_code == 0);
  CHECK(fine.output == "ok\n");
  auto e = closing->collect_evidence();
  CHECK(e.details["affected"] == 1);
  CHECK(e.details["connections_closed"] == 1);
  s.revert(*closing);

  auto resetting = s.fault("http_reset", {{"path", std::string("/api/big")}});
  s.inject(*resetting);
  cut = run_command("curl -s -o /dev/null '" + s.url("/api/big") + "'");
  CHECK(cut.exit_code != 0);
  e = resetting->collect_evidence();
  CHECK(e.details["affected"] == 1);
  CHECK(e.details["connections_reset"] == 1);
  s.revert(*resetting);

  auto whole = run_command("curl -s -o /dev/null -w '%{size_download}' '" + s.url("/api/big") + "'");
  CHECK(whole.exit_code == 0);
  CHECK(whole.output == "100000");
}

TEST_CASE("a chunked upload and a 100 MB download pass intact while a fault waits for other requests", "[faults][protocol]") {
  http_setup s;
  auto f = s.fault("http_abort", {{"path", std::string("/never/*")}});
  s.inject(*f);
  const auto dir = s.nginx.directory();
  REQUIRE(run_command("head -c 100000000 /dev/urandom > '" + s.nginx.www() + "/big.bin'").exit_code == 0);
  REQUIRE(run_command("head -c 5000000 /dev/urandom > '" + dir + "/upload.bin'").exit_code == 0);
  auto up = run_command("curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' -T '" + dir + "/upload.bin' '" + s.url("/upload/u.bin") + "'");
  CHECK(up.output == "201");
  CHECK(run_command("cmp '" + dir + "/upload.bin' '" + s.nginx.www() + "/upload/u.bin'").exit_code == 0);
  auto down = run_command("curl -s -o '" + dir + "/down.bin' -w '%{http_code}' '" + s.url("/big.bin") + "'");
  CHECK(down.output == "200");
  CHECK(run_command("cmp '" + dir + "/down.bin' '" + s.nginx.www() + "/big.bin'").exit_code == 0);
  auto e = f->collect_evidence();
  CHECK(e.details["matched"] == 0);
  CHECK(e.details["seen"] == 2);
  s.revert(*f);
}
