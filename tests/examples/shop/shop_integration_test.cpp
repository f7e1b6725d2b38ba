// faultline-shop against real PostgreSQL and Redis (started here, stopped even on failure), with
// a relay between the shop and PostgreSQL that the test stalls and resets.

#include "tests/examples/shop/tcp_relay.hpp"
#include "tests/support/command.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/real_servers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#if !defined(FAULTLINE_SHOP_BINARY) || !defined(FAULTLINE_PAYMENTS_BINARY)
#error "FAULTLINE_SHOP_BINARY and FAULTLINE_PAYMENTS_BINARY must name the built programs (tests/examples/shop/CMakeLists.txt sets them)"
#endif

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;
using faultline::test::eventually;
using faultline::test::tcp_relay;

namespace {

std::string value_of(const std::string& output, const std::string& key) {
  const auto at = output.find(key + "=");
  if (at == std::string::npos) throw std::runtime_error("scripts/shop.sh printed no " + key + "=: " + output);
  const auto begin = at + key.size() + 1;
  return output.substr(begin, output.find('\n', begin) - begin);
}

std::string shop_script() { return faultline::test::source_dir() + "/scripts/shop.sh"; }

// faultline-shop started by scripts/shop.sh start, stopped through scripts/shop.sh stop.
class shop_process {
public:
  shop_process(const std::string& postgres, const std::string& redis, const std::string& flags) {
    const auto started = faultline::test::run_command("SHOP_BIN='" FAULTLINE_SHOP_BINARY "' " + shop_script() +
                                                      " start --postgres " + postgres + " --redis " + redis +
                                                      " --watch " + std::to_string(::getpid()) + " -- " + flags);
    if (started.exit_code != 0) throw std::runtime_error("scripts/shop.sh start failed: " + started.output);
    dir_ = value_of(started.output, "dir");
    port_ = static_cast<std::uint16_t>(std::stoi(value_of(started.output, "port")));
  }
  ~shop_process() { faultline::test::run_command(shop_script() + " stop '" + dir_ + "'"); }
  shop_process(const shop_process&) = delete;

  std::uint16_t port() const { return port_; }
  std::string log() const {
    std::ifstream in(dir_ + "/shop.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

private:
  std::string dir_;
  std::uint16_t port_ = 0;
};

// faultline-payments started by scripts/shop.sh start-payments, stopped through scripts/shop.sh stop.
class payments_process {
public:
  payments_process() {
    const auto started = faultline::test::run_command("PAYMENTS_BIN='" FAULTLINE_PAYMENTS_BINARY "' " + shop_script() +
                                                      " start-payments --watch " + std::to_string(::getpid()));
    if (started.exit_code != 0) throw std::runtime_error("scripts/shop.sh start-payments failed: " + started.output);
    dir_ = value_of(started.output, "dir");
    port_ = static_cast<std::uint16_t>(std::stoi(value_of(started.output, "port")));
  }
  ~payments_process() { faultline::test::run_command(shop_script() + " stop '" + dir_ + "'"); }
  payments_process(const payments_process&) = delete;
  std::uint16_t port() const { return port_; }

private:
  std::string dir_;
  std::uint16_t port_ = 0;
};

struct reply {
  unsigned status = 0;
  std::string body;
  std::string x_cache;
  std::string x_payment;
};

// One request on a fresh connection; the answer with the shop's X-Cache and X-Payment headers.
reply exchange(std::uint16_t port, http::request<http::string_body> request) {
  asio::io_context context;
  reply out;
  request.set(http::field::host, "127.0.0.1");
  request.prepare_payload();
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        beast::tcp_stream stream(co_await asio::this_coro::executor);
        stream.expires_after(10s);
        co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
        co_await http::async_write(stream, request, asio::use_awaitable);
        beast::flat_buffer buffer;
        http::response<http::string_body> response;
        co_await http::async_read(stream, buffer, response, asio::use_awaitable);
        out.status = response.result_int();
        out.body = response.body();
        if (auto header = response.find("X-Cache"); header != response.end()) out.x_cache = header->value();
        if (auto header = response.find("X-Payment"); header != response.end()) out.x_payment = header->value();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  context.run();
  return out;
}

reply http_get(std::uint16_t port, const std::string& target) { return exchange(port, {http::verb::get, target, 11}); }

// POST with a JSON body and, when given, a bearer token.
reply http_post(std::uint16_t port, const std::string& target, const std::string& body, const std::string& token = "") {
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::content_type, "application/json");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  request.body() = body;
  return exchange(port, std::move(request));
}

// The value of one series in the shop's /metrics, e.g. `shop_breaker_state{dependency="postgres"}`.
double metric(std::uint16_t port, const std::string& series) {
  const std::string text = "\n" + http_get(port, "/metrics").body;
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) throw std::runtime_error("no series " + series + " in /metrics");
  return std::stod(text.substr(at + series.size() + 2));
}

const std::string breaker_state = R"(shop_breaker_state{dependency="postgres"})";
std::string transitions(const std::string& from, const std::string& to) {
  return R"(shop_breaker_transitions_total{dependency="postgres",from=")" + from + R"(",to=")" + to + R"("})";
}
double db_queries(std::uint16_t port) {
  double total = 0;
  for (const char* result : {"ok", "not_found", "error", "timeout"})
    total += metric(port, std::string(R"(shop_db_queries_total{result=")") + result + R"("})");
  return total;
}

// Drops the fresh copies, as if their TTL had run out, leaving the stale ones.
void expire_fresh_copies(std::uint16_t redis_port, std::initializer_list<int> ids) {
  redisContext* redis = redisConnect("127.0.0.1", redis_port);
  REQUIRE(redis);
  REQUIRE(redis->err == 0);
  for (int id : ids) {
    auto* r = static_cast<redisReply*>(redisCommand(redis, "DEL order:%d", id));
    REQUIRE(r);
    REQUIRE(r->type == REDIS_REPLY_INTEGER);
    freeReplyObject(r);
  }
  redisFree(redis);
}

struct transition_line {
  std::string timestamp, from, to, reason;
};

std::vector<transition_line> breaker_lines(const std::string& log) {
  static const std::regex line(
      R"(^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) breaker postgres (closed|open|half_open)->(closed|open|half_open) reason=(\w+)( \w+=\S+)*$)");
  std::vector<transition_line> found;
  std::istringstream in(log);
  for (std::string text; std::getline(in, text);) {
    std::smatch m;
    if (std::regex_match(text, m, line)) found.push_back({m[1], m[2], m[3], m[4]});
  }
  return found;
}

}  // namespace

TEST_CASE("the shop serves from PostgreSQL and Redis, and falls back to stale copies behind its breaker",
          "[examples][shop]") {
  faultline::test::postgres_server postgres;
  faultline::test::redis_server redis;
  const auto seeded = faultline::test::run_command(shop_script() + " seed --postgres " + postgres.address() +
                                                   " --orders 100");
  REQUIRE(seeded.exit_code == 0);
  tcp_relay relay(postgres.port());
  shop_process shop("127.0.0.1:" + std::to_string(relay.port()), redis.address(),
                    "--threads 2 --postgres-timeout 500ms --postgres-attempts 2 --postgres-backoff 10ms "
                    "--breaker-failures 3 --breaker-slow-call 0 --breaker-cooldown 2s --breaker-trials 2 "
                    "--redis-timeout 2s");
  const auto port = shop.port();

  // Healthy: the first read comes from PostgreSQL, the next from the cache.
  CHECK(http_get(port, "/health").status == 200);
  auto first = http_get(port, "/orders/7");
  CHECK(first.status == 200);
  CHECK(first.x_cache == "miss");
  CHECK(first.body.find(R"("id" : 7)") != std::string::npos);
  auto second = http_get(port, "/orders/7");
  CHECK(second.status == 200);
  CHECK(second.x_cache == "hit");
  CHECK(second.body == first.body);
  CHECK(http_get(port, "/orders/100000").status == 404);
  CHECK(http_get(port, "/orders/abc").status == 400);
  CHECK(metric(port, "shop_cache_hits_total") == 1);
  CHECK(metric(port, R"(shop_db_queries_total{result="ok"})") == 1);
  CHECK(metric(port, breaker_state) == 0);

  // Stale copies of orders 1..3 exist; their fresh copies are gone.
  for (int id : {1, 2, 3}) REQUIRE(http_get(port, "/orders/" + std::to_string(id)).x_cache == "miss");
  expire_fresh_copies(redis.port(), {1, 2, 3});

  // PostgreSQL stalls: tries time out, stale copies are served, and the breaker opens after three
  // failures (order 1: two tries; order 2: one more).
  relay.set(tcp_relay::mode::stall);
  for (int id : {1, 2}) {
    auto r = http_get(port, "/orders/" + std::to_string(id));
    CHECK(r.status == 200);
    CHECK(r.x_cache == "stale");
  }
  CHECK(metric(port, breaker_state) == 1);
  CHECK(metric(port, transitions("closed", "open")) == 1);
  CHECK(metric(port, R"(shop_db_queries_total{result="timeout"})") == 3);

  // Open: no database call at all, stale copy if there is one, 503 if not.
  const double queries_before = db_queries(port);
  auto refused = http_get(port, "/orders/3");
  CHECK(refused.status == 200);
  CHECK(refused.x_cache == "stale");
  auto nothing = http_get(port, "/orders/50");
  CHECK(nothing.status == 503);
  CHECK(db_queries(port) == queries_before);
  CHECK(metric(port, R"(shop_breaker_rejections_total{dependency="postgres"})") >= 2);
  auto health = http_get(port, "/health");
  CHECK(health.status == 200);
  CHECK(health.body.find(R"("status":"degraded")") != std::string::npos);

  // The cool-down ends with no traffic at all: half-open. A trial that times out opens it again.
  CHECK(eventually([&] { return metric(port, breaker_state) == 2; }));
  CHECK(http_get(port, "/orders/1").x_cache == "stale");
  CHECK(metric(port, breaker_state) == 1);
  CHECK(metric(port, transitions("half_open", "open")) == 1);

  // PostgreSQL is back: after the next cool-down two successful trials close the breaker.
  relay.set(tcp_relay::mode::pass);
  CHECK(eventually([&] { return metric(port, breaker_state) == 2; }));
  CHECK(http_get(port, "/orders/1").x_cache == "miss");
  CHECK(http_get(port, "/orders/2").x_cache == "miss");
  CHECK(metric(port, breaker_state) == 0);
  CHECK(metric(port, transitions("half_open", "closed")) == 1);
  CHECK(http_get(port, "/orders/1").x_cache == "hit");

  // PostgreSQL refuses and drops connections: fast failures open the breaker again.
  expire_fresh_copies(redis.port(), {1, 2, 3});
  relay.set(tcp_relay::mode::reset);
  for (int id : {1, 2, 3}) CHECK(http_get(port, "/orders/" + std::to_string(id)).status == 200);
  CHECK(metric(port, breaker_state) == 1);
  CHECK(metric(port, transitions("closed", "open")) == 2);
  relay.set(tcp_relay::mode::pass);
  CHECK(eventually([&] { return metric(port, breaker_state) == 2; }));
  CHECK(http_get(port, "/orders/1").x_cache == "miss");
  CHECK(http_get(port, "/orders/3").x_cache == "miss");
  CHECK(metric(port, breaker_state) == 0);

  // The log tells the same story, one exact, parseable line per transition.
  const auto lines = breaker_lines(shop.log());
  std::vector<std::string> story;
  for (const auto& l : lines) story.push_back(l.from + "->" + l.to + " " + l.reason);
  CHECK(story == std::vector<std::string>{
                     "closed->open consecutive_failures", "open->half_open cooldown_elapsed",
                     "half_open->open trial_failed", "open->half_open cooldown_elapsed",
                     "half_open->closed trials_succeeded", "closed->open consecutive_failures",
                     "open->half_open cooldown_elapsed", "half_open->closed trials_succeeded"});
  for (std::size_t i = 1; i < lines.size(); ++i) CHECK(lines[i - 1].timestamp <= lines[i].timestamp);
  CHECK(metric(port, transitions("closed", "open")) + metric(port, transitions("half_open", "open")) == 3);
  CHECK(metric(port, transitions("open", "half_open")) == 3);
  CHECK(metric(port, transitions("half_open", "closed")) == 2);
  CHECK(metric(port, R"(shop_requests_total{route="/orders/{id}",outcome="stale"})") == 7);
  CHECK(metric(port, R"(shop_requests_total{route="/orders/{id}",outcome="error"})") == 1);
}

TEST_CASE("over its limits the shop sheds load at once instead of queueing", "[examples][shop]") {
  faultline::test::postgres_server postgres;
  faultline::test::redis_server redis;
  REQUIRE(faultline::test::run_command(shop_script() + " seed --postgres " + postgres.address() + " --orders 10")
              .exit_code == 0);
  tcp_relay relay(postgres.port());
  shop_process shop("127.0.0.1:" + std::to_string(relay.port()), redis.address(),
                    "--threads 2 --max-inflight 2 --max-connections 6 --cache-ttl 0 --postgres-timeout 5s "
                    "--postgres-attempts 1 --breaker-slow-call 0");
  const auto port = shop.port();

  {  // Requests in flight.
    relay.set(tcp_relay::mode::stall);  // two requests hang on PostgreSQL...
    std::vector<std::thread> hanging;
    std::vector<reply> hung(2);
    for (int i = 0; i < 2; ++i) hanging.emplace_back([&, i] { hung[i] = http_get(port, "/orders/" + std::to_string(i + 1)); });
    CHECK(eventually([&] { return metric(port, "shop_inflight_requests") == 2; }));
    auto shed = http_get(port, "/orders/3");  // ...so the third is refused at once
    CHECK(shed.status == 503);
    CHECK(shed.body.find("over 2 requests in flight") != std::string::npos);
    CHECK(metric(port, "shop_inflight_requests") == 2);  // the two are still waiting
    CHECK(metric(port, R"(shop_requests_total{route="/orders/{id}",outcome="shed"})") == 1);  // /metrics: never shed
    relay.set(tcp_relay::mode::pass);
    for (auto& t : hanging) t.join();
    CHECK(hung[0].status == 200);
    CHECK(hung[1].status == 200);
  }

  {  // Open connections: six idle clients take every connection the shop allows.
    asio::io_context context;
    std::vector<tcp::socket> idle;
    for (int i = 0; i < 6; ++i) {
      idle.emplace_back(context);
      idle.back().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    // The next is answered 503 and closed (or reset, if the client's request was still unread).
    CHECK(eventually([&] {
      try {
        return http_get(port, "/health").status == 503;
      } catch (const boost::system::system_error&) {
        return true;
      }
    }));
    idle.clear();
    CHECK(eventually([&] { return http_get(port, "/health").status == 200; }));
    CHECK(metric(port, R"(shop_connections_total{result="rejected"})") >= 1);
  }
}

TEST_CASE("a faultline journey against the shop: the token from /login reaches /checkout", "[examples][shop]") {
  faultline::test::postgres_server postgres;
  faultline::test::redis_server redis;
  REQUIRE(faultline::test::run_command(shop_script() + " seed --postgres " + postgres.address() + " --orders 50").exit_code == 0);
  shop_process shop(postgres.address(), redis.address(), "--threads 1");
  const auto port = shop.port();

  CHECK(http_get(port, "/checkout").status == 405);  // POST only

  // Five users, each: sign in, look at two orders, check out with the token it was given; in
  // one level of 3 s that must hold its rules.
  const auto dir = std::filesystem::temp_directory_path() / ("faultline-journey-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "journey.yaml") << R"(version: 1
name: shop-journey
load:
  http:
    url: http://127.0.0.1:)" << port << R"(
    think_time: 20ms
    values:
      id: { range: [1, 50] }
      n: { sequence: 1 }
    journey:
      - { name: login, method: POST, url: /login, body: '{"user": "user-${n}"}', capture: { token: { json: /token } } }
      - { name: browse, url: "/orders/${id}", repeat: 2 }
      - { name: checkout, method: POST, url: /checkout, headers: { Authorization: "Bearer ${token}" } }
  levels:
    - { name: five-users, users: 5, for: 3s, require: [ "load.checkout.error_rate == 0%", "load.login.count > 5" ] }
settings: { window: 500ms }
)";
  const auto run = faultline::test::run_command(faultline::test::faultline_binary() + " run " + (dir / "journey.yaml").string() +
                                                " --report-dir " + (dir / "reports").string() + " --state-file " +
                                                (dir / "state.json").string());
  INFO(run.output);
  CHECK(run.exit_code == 0);
  const auto journal = nlohmann::json::parse(std::ifstream(dir / "reports" / "shop-journey.journal.json"));
  std::uint64_t checkouts = 0, checkouts_ok = 0;
  for (const auto& s : journal["analysis"]["phase_stats"])
    if (s["series"] == "load.checkout") {
      checkouts += s["count"].get<std::uint64_t>();
      checkouts_ok += s["count"].get<std::uint64_t>() - s["errors"].get<std::uint64_t>();
    }
  CHECK(checkouts > 10);
  CHECK(checkouts_ok == checkouts);
  // The shop saw every checkout with a token it had issued, and none without.
  CHECK(metric(port, R"(shop_requests_total{route="/checkout",outcome="ok"})") == static_cast<double>(checkouts));
  CHECK(metric(port, R"(shop_requests_total{route="/checkout",outcome="invalid"})") == 0);
  CHECK(metric(port, R"(shop_requests_total{route="/login",outcome="ok"})") >= static_cast<double>(checkouts));
  REQUIRE(journal["analysis"]["levels"].size() == 1);
  CHECK(journal["analysis"]["levels"][0]["held"] == true);
  std::filesystem::remove_all(dir);
}

TEST_CASE("live order sessions: replies echo the id, sessions beyond the limit are refused at once, HTTP goes on",
          "[examples][shop]") {
  namespace websocket = beast::websocket;
  faultline::test::postgres_server postgres;
  faultline::test::redis_server redis;
  REQUIRE(faultline::test::run_command(shop_script() + " seed --postgres " + postgres.address() + " --orders 10")
              .exit_code == 0);
  shop_process shop(postgres.address(), redis.address(), "--threads 2 --max-websocket-sessions 2 --max-connections 4");
  const auto port = shop.port();

  asio::io_context context;
  std::vector<std::unique_ptr<websocket::stream<tcp::socket>>> sessions;
  // Opens a session; the HTTP status of a declined upgrade, or 101.
  const auto open = [&](std::chrono::nanoseconds* took = nullptr) {
    auto ws = std::make_unique<websocket::stream<tcp::socket>>(context);
    ws->next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    websocket::response_type response;
    boost::system::error_code ec;
    const auto started = std::chrono::steady_clock::now();
    ws->handshake(response, "127.0.0.1", "/orders/live", ec);
    if (took) *took = std::chrono::steady_clock::now() - started;
    if (!ec) sessions.push_back(std::move(ws));
    return response.result_int();
  };
  REQUIRE(open() == 101);
  REQUIRE(open() == 101);
  CHECK(metric(port, "shop_websocket_sessions_open") == 2);

  std::chrono::nanoseconds took{};
  CHECK(open(&took) == 503);  // over the limit: refused, not queued
  CHECK(took < 1s);
  CHECK(metric(port, R"(shop_websocket_sessions_total{result="rejected"})") == 1);

  // The held sessions are answered; they do not count as HTTP connections, so with four HTTP
  // connections allowed, four plain requests still get through at once.
  for (auto& ws : sessions) {
    ws->write(asio::buffer(std::string(R"({"id":"a-7","order":7})")));
    beast::flat_buffer buffer;
    ws->read(buffer);
    const auto text = beast::buffers_to_string(buffer.data());
    CHECK_THAT(text, Catch::Contains(R"("id":"a-7")"));
    CHECK_THAT(text, Catch::Contains(R"("status":200)"));
    CHECK_THAT(text, Catch::Contains(R"("customer":"customer-8")"));
  }
  CHECK(metric(port, "shop_connections_open") <= 1);  // the one /metrics is read on
  {
    asio::io_context http_context;
    std::vector<tcp::socket> idle;
    for (int i = 0; i < 3; ++i) {
      idle.emplace_back(http_context);
      idle.back().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    CHECK(http_get(port, "/health").status == 200);
  }
  sessions.front()->write(asio::buffer(std::string("not json")));
  beast::flat_buffer buffer;
  sessions.front()->read(buffer);
  CHECK_THAT(beast::buffers_to_string(buffer.data()), Catch::Contains("send {"));
  CHECK(http_get(port, "/orders/live").status == 426);

  for (auto& ws : sessions) ws->close(websocket::close_code::normal);
  sessions.clear();
  CHECK(eventually([&] { return metric(port, "shop_websocket_sessions_open") == 0; }));
  CHECK(open() == 101);  // places free again
}

TEST_CASE("checkout charges the payments API behind its own breaker and defers the payment when it fails",
          "[examples][shop]") {
  payments_process payments;
  tcp_relay relay(payments.port());
  // Checkout touches neither PostgreSQL nor Redis: the shop is given addresses nothing listens on.
  shop_process shop("127.0.0.1:1", "127.0.0.1:1",
                    "--threads 1 --payments 127.0.0.1:" + std::to_string(relay.port()) +
                        " --payments-timeout 300ms --payments-breaker-cooldown 2s");
  const auto port = shop.port();
  const std::string state = R"(shop_breaker_state{dependency="payments"})";
  const auto token = nlohmann::json::parse(http_post(port, "/login", R"({"user": "ann"})").body)["token"].get<std::string>();

  // Healthy: the payment is authorised.
  auto paid = http_post(port, "/checkout", "{}", token);
  CHECK(paid.status == 200);
  CHECK(paid.x_payment == "authorized");
  CHECK(nlohmann::json::parse(paid.body)["payment_id"] == "pay-1");
  CHECK(metric(port, R"(shop_payments_total{result="authorized"})") == 1);

  // The payments API resets every connection: each checkout still succeeds, its payment
  // deferred; of 10 calls at least half failed, so the breaker opens and the calls stop.
  relay.set(tcp_relay::mode::reset);
  for (int i = 0; i < 10; ++i) {
    auto deferred = http_post(port, "/checkout", "{}", token);
    CHECK(deferred.status == 202);
    CHECK(deferred.x_payment == "deferred");
    CHECK(nlohmann::json::parse(deferred.body)["payment"] == "deferred");
  }
  CHECK(metric(port, state) == 1);
  const double errors = metric(port, R"(shop_payments_total{result="error"})");
  CHECK(errors >= 9);
  auto refused = http_post(port, "/checkout", "{}", token);
  CHECK(refused.status == 202);
  CHECK(nlohmann::json::parse(refused.body)["reason"] == "circuit breaker open");
  CHECK(metric(port, R"(shop_payments_total{result="error"})") == errors);  // not called
  CHECK(metric(port, R"(shop_breaker_rejections_total{dependency="payments"})") >= 1);
  CHECK(metric(port, R"(shop_requests_total{route="/checkout",outcome="stale"})") >= 11);
  CHECK(metric(port, R"(shop_breaker_state{dependency="postgres"})") == 0);  // the other breaker is its own

  // Back to normal: after the cool-down, three successful trials close it.
  relay.set(tcp_relay::mode::pass);
  CHECK(faultline::test::eventually([&] {
    http_post(port, "/checkout", "{}", token);
    return metric(port, state) == 0;
  }));
  CHECK(http_post(port, "/checkout", "{}", token).x_payment == "authorized");
  const std::string log = shop.log();
  INFO(log);
  CHECK(std::regex_search(log, std::regex(R"(Z breaker payments config rule=rate .* cooldown_ms=2000 trials=3)")));
  CHECK(std::regex_search(log, std::regex(R"(Z breaker payments closed->open reason=failure_rate failures=\d+ calls=10 )")));
  CHECK(std::regex_search(log, std::regex(R"(Z breaker payments open->half_open reason=cooldown_elapsed)")));
  CHECK(std::regex_search(log, std::regex(R"(Z breaker payments half_open->closed reason=trials_succeeded trials=3)")));
}
