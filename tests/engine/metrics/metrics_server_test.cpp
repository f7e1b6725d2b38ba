// metrics_server on its own, over loopback: GET and HEAD of /metrics, 404 and 405 for the rest,
// the grace period after the run (wait_until_scraped), and many scrapers at once while the run
// publishes, each answer one whole publication.
#include "core/prometheus.hpp"
#include "engine/metrics/metrics_server.hpp"
#include "tests/support/eventually.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;
using faultline::engine::metrics_server;

namespace {

struct answer {
  unsigned status = 0;
  std::string content_type;
  std::string allow;
  std::string content_length;
  std::string body;
};

// One keep-alive connection to the server, requests one after the other.
class scraper {
public:
  explicit scraper(const tcp::endpoint& server) : socket_(ioc_) { socket_.connect(server); }

  answer request(http::verb method, const std::string& target) {
    http::request<http::empty_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    http::write(socket_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    if (method == http::verb::head) parser.skip(true);  // a HEAD answer has headers only
    http::read(socket_, buffer_, parser);
    const auto& res = parser.get();
    return {res.result_int(), std::string(res[http::field::content_type]), std::string(res[http::field::allow]),
            std::string(res[http::field::content_length]), res.body()};
  }
  answer get(const std::string& target) { return request(http::verb::get, target); }

private:
  asio::io_context ioc_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

tcp::endpoint any_loopback_port() { return {asio::ip::make_address("127.0.0.1"), 0}; }

}  // namespace

TEST_CASE("metrics_server: GET and HEAD of /metrics, / says where, other paths 404, other methods 405", "[engine]") {
  metrics_server server(any_loopback_port());
  REQUIRE(server.local_endpoint().port() != 0);
  const std::string text = "# HELP x_total X.\n# TYPE x_total counter\nx_total 42\n";
  server.publish(text);
  scraper s(server.local_endpoint());

  auto r = s.get("/metrics");
  CHECK(r.status == 200);
  CHECK(r.content_type == faultline::prometheus::content_type);
  CHECK(r.body == text);
  CHECK(s.get("/metrics?name[]=x_total").body == text);  // a query string is ignored

  r = s.request(http::verb::head, "/metrics");  // same connection: HEAD leaves it usable
  CHECK(r.status == 200);
  CHECK(r.content_type == faultline::prometheus::content_type);
  CHECK(r.content_length == std::to_string(text.size()));
  CHECK(r.body.empty());

  r = s.get("/");
  CHECK(r.status == 200);
  CHECK(r.body.find("/metrics") != std::string::npos);
  for (const char* path : {"/metric", "/metrics/", "/favicon.ico", "/api/v1/query"}) {
    r = s.get(path);
    INFO(path);
    CHECK(r.status == 404);
    CHECK(r.body == "not found: the metrics are at /metrics\n");
  }
  r = s.request(http::verb::head, "/nope");
  CHECK(r.status == 404);
  CHECK(r.body.empty());
  r = s.request(http::verb::post, "/metrics");
  CHECK(r.status == 405);
  CHECK(r.allow == "GET, HEAD");
  CHECK(s.get("/metrics").body == text);  // still the same connection
  // Three GETs of /metrics sent the metrics; HEAD, / and the errors are not scrapes. (A scrape is
  // counted once its answer is written, which the client may see first.)
  CHECK(faultline::test::eventually([&] { return server.scrapes() == 3; }));
  CHECK(server.scrapes() == 3);
}

TEST_CASE("metrics_server: the grace period ends when a scrape has fetched the latest publication, or at its limit", "[engine]") {
  metrics_server server(any_loopback_port());
  CHECK(server.wait_until_scraped(0ms));  // nothing published: nothing to wait for

  server.publish("a 1\n");
  auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(server.wait_until_scraped(300ms));  // nobody scrapes: the limit ends the wait
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);

  scraper s(server.local_endpoint());
  CHECK(s.request(http::verb::head, "/metrics").status == 200);
  CHECK_FALSE(server.wait_until_scraped(50ms));  // HEAD carries no metrics

  // A scrape of an older publication does not end it; one of the final publication does, at once.
  CHECK(s.get("/metrics").body == "a 1\n");
  server.publish("a 2\n");
  CHECK_FALSE(server.wait_until_scraped(50ms));
  auto late = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(100ms);  // most likely while the wait below is under way; either order must pass
    return s.get("/metrics").body;
  });
  started = std::chrono::steady_clock::now();
  CHECK(server.wait_until_scraped(60s));
  CHECK(std::chrono::steady_clock::now() - started < 30s);  // woken by the scrape, not the limit
  CHECK(late.get() == "a 2\n");
  CHECK(server.wait_until_scraped(0ms));
}

TEST_CASE("metrics_server: concurrent scrapers while the run publishes each get one whole publication", "[engine]") {
  metrics_server server(any_loopback_port());
  // Publications big enough to be written in several pieces, each recognisable and self-checking.
  auto page = [](int n) {
    std::string out;
    for (int line = 0; line < 2000; ++line) out += fmt::format("faultline_test_value{{line=\"{}\"}} {}\n", line, n);
    return out;
  };
  server.publish(page(0));
  constexpr int scrapers = 6, per_scraper = 150;
  std::atomic<bool> done{false};
  std::atomic<int> published{1};
  std::thread publisher([&] {
    for (int n = 1; !done; ++n) {
      server.publish(page(n));
      published = n + 1;
      std::this_thread::sleep_for(1ms);
    }
  });
  std::vector<std::future<std::pair<int, std::set<std::string>>>> results;
  for (int i = 0; i < scrapers; ++i)
    results.push_back(std::async(std::launch::async, [&] {
      scraper s(server.local_endpoint());
      int whole = 0;
      std::set<std::string> seen;
      for (int k = 0; k < per_scraper; ++k) {
        auto r = s.get("/metrics");
        // Whole: 2000 lines, all of the same publication (its number ends every line).
        const auto first_end = r.body.find('\n');
        const auto number = r.body.substr(r.body.rfind(' ', first_end) + 1, first_end - r.body.rfind(' ', first_end) - 1);
        const bool ok = r.status == 200 && number.find_first_not_of("0123456789") == std::string::npos &&
                        r.body == page(std::stoi(number));
        whole += ok ? 1 : 0;
        seen.insert(number);
      }
      return std::pair{whole, seen};
    }));
  int whole = 0;
  std::set<std::string> seen;
  for (auto& f : results) {
    auto [n, s] = f.get();
    whole += n;
    seen.insert(s.begin(), s.end());
  }
  done = true;
  publisher.join();
  CHECK(whole == scrapers * per_scraper);
  CHECK(faultline::test::eventually([&] { return server.scrapes() == static_cast<std::uint64_t>(scrapers * per_scraper); }));
  CHECK(seen.size() > 1);  // the scrapes saw the publications change under them
  CHECK(published > 1);
}
