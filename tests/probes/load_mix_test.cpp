// The load generator with a mix of named requests and with journeys: against Debian's nginx
// (started here) the mix's counts match its weights and nginx's own access log, and ${id} covers
// its range uniformly; a journey's captured value reaches the next request.

#include "probes/load_generator.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/nginx_server.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <sstream>
#include <thread>

using namespace faultline;
using namespace faultline::probes;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

namespace {

params request(const std::string& name, double weight, const std::string& url, const std::string& method = "GET",
               const std::string& body = "") {
  params p;
  p.set("name", name);
  p.set("weight", weight);
  p.set("url", url);
  p.set("method", method);
  if (!body.empty()) p.set("body", body);
  return p;
}

load_stage open_stage(double rate) {
  load_stage s;
  s.rate_from = s.rate_to = rate;
  return s;
}

// Runs the generator on `threads` io_contexts until it ends by itself.
load_stats run(std::shared_ptr<const http_load_config> config, timeline& tl, int threads) {
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  std::vector<boost::asio::any_io_executor> executors;
  for (int i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<boost::asio::io_context>(1));
    executors.push_back(contexts.back()->get_executor());
  }
  load_generator g(executors, config, make_load_series(tl, *config));
  std::atomic<bool> done{false};
  g.on_done([&] { done = true; });
  g.start(tl.start());
  std::vector<std::thread> workers;
  for (auto& c : contexts) workers.emplace_back([&c] { c->run(); });
  const auto deadline = clock::now() + 60s;
  while (!done && clock::now() < deadline) std::this_thread::sleep_for(5ms);
  if (!done) g.stop();
  for (auto& w : workers) w.join();
  REQUIRE(done);
  return g.stats();
}

}  // namespace

TEST_CASE("a 70/20/10 mix against nginx: counts follow the weights and match nginx's access log", "[probes][integration]") {
  test::nginx_server nginx;
  params p;
  p.set("url", nginx.url());
  p.set("max_requests", std::int64_t{10000});
  p.set("timeout", nanoseconds(5s));
  params id;
  id.set("range", std::vector<std::string>{"1", "100"});
  http_load_parts parts;
  parts.values = {{"id", id}};
  parts.requests = {{request("browse", 70, "/browse/${id}"), {}},
                    {request("search", 20, "/search?q=${id}"), {}},
                    {request("checkout", 10, "/checkout", "POST", R"({"item":${id}})"), {}}};
  auto config = std::make_shared<const http_load_config>(http_load_config::from(p, {open_stage(2500)}, parts));
  timeline tl(clock::now() + 50ms);
  const auto stats = run(config, tl, 2);
  nginx.stop();

  CHECK(stats.requests_completed_total == 10000);
  const auto all = tl.stats("load", time_range{});
  CHECK(all.total() == 10000);
  CHECK(all.count(outcome::ok) == 10000);
  std::map<std::string, std::uint64_t> faultline_counts;
  for (const auto& [name, weight] : std::vector<std::pair<std::string, double>>{{"browse", 0.7}, {"search", 0.2}, {"checkout", 0.1}}) {
    const auto n = tl.stats("load." + name, time_range{}).total();
    faultline_counts[name] = n;
    INFO(name << ": " << n);
    CHECK(std::abs(static_cast<double>(n) - weight * 10000) <= 0.02 * weight * 10000);
  }

  std::map<std::string, std::uint64_t> nginx_counts;
  std::vector<std::uint64_t> ids(101, 0);
  std::uint64_t lines = 0;
  for (const auto& line : nginx.access_log()) {
    std::istringstream in(line);
    std::string method, uri, status;
    in >> method >> uri >> status;
    ++lines;
    CHECK(status == "200");
    if (uri.starts_with("/browse/")) {
      ++nginx_counts["browse"];
      const auto v = std::stoi(uri.substr(8));
      REQUIRE(v >= 1);
      REQUIRE(v <= 100);
      ++ids[static_cast<std::size_t>(v)];
    } else if (uri.starts_with("/search?q=")) {
      ++nginx_counts["search"];
    } else if (uri == "/checkout" && method == "POST") {
      ++nginx_counts["checkout"];
    }
  }
  CHECK(lines == 10000);
  CHECK(nginx_counts == faultline_counts);

  // ${id} over 1..100 as nginx saw it: uniform by a chi-square test (99 degrees of freedom; the
  // 0.1 % critical value is 148.2). The seed is fixed, so the draws are the same on every run.
  const double expected = static_cast<double>(nginx_counts["browse"]) / 100;
  double chi2 = 0;
  for (std::size_t v = 1; v <= 100; ++v) chi2 += (static_cast<double>(ids[v]) - expected) * (static_cast<double>(ids[v]) - expected) / expected;
  INFO("chi-square " << chi2);
  CHECK(chi2 < 148.2);
  CHECK(*std::min_element(ids.begin() + 1, ids.end()) > 0);  // every value was drawn
}

TEST_CASE("a journey: each user's captured token reaches its next request", "[probes]") {
  std::mutex m;
  std::map<std::string, int> checkouts_by_token;
  int issued = 0;
  int unauthorised = 0;
  test::http_test_server server([&](const test::http_test_request& r) {
    test::http_test_reply reply;
    std::lock_guard lock(m);
    if (r.target == "/login") {
      reply.body = R"({"token":"t-)" + std::to_string(++issued) + R"("})";
    } else if (r.target.starts_with("/orders/")) {
      reply.body = "{}";
    } else if (r.target == "/checkout") {
      auto it = r.headers.find("authorization");
      if (it == r.headers.end() || !it->second.starts_with("Bearer t-")) {
        ++unauthorised;
        reply.status = 401;
      } else {
        ++checkouts_by_token[it->second.substr(7)];
      }
    }
    return reply;
  });
  params p;
  p.set("url", server.url());
  params id;
  id.set("range", std::vector<std::string>{"1", "1000"});
  params login = request("login", 1, "/login", "POST", R"({"user":"u"})");
  params browse = request("browse", 1, "/orders/${id}");
  browse.set("repeat", std::int64_t{3});
  params checkout = request("checkout", 1, "/checkout", "POST");
  checkout.set("headers", std::map<std::string, std::string>{{"Authorization", "Bearer ${token}"}});
  http_load_parts parts;
  parts.journey = true;
  parts.values = {{"id", id}};
  parts.requests = {{login, {{"token", load_capture::source::json, "/token", 0}}}, {browse, {}}, {checkout, {}}};
  load_stage users;
  users.kind = load_stage::model::closed;
  users.users = 4;
  users.think_time = 2ms;
  users.duration = 1500ms;
  auto config = std::make_shared<const http_load_config>(http_load_config::from(p, {users}, parts));
  timeline tl(clock::now() + 20ms);
  const auto stats = run(config, tl, 1);

  CHECK(unauthorised == 0);
  CHECK(stats.captures_failed_total == 0);
  CHECK(stats.journeys_completed_total > 10);
  const auto logins = tl.stats("load.login", time_range{}).total();
  const auto browses = tl.stats("load.browse", time_range{}).total();
  const auto checkouts = tl.stats("load.checkout", time_range{}).total();
  CHECK(tl.stats("load.checkout", time_range{}).count(outcome::ok) == checkouts);
  // Steps in order: three browses per login, a checkout per complete pass (the stage may cut
  // each user's last pass short).
  CHECK(browses >= 3 * (logins - 4));
  CHECK(browses <= 3 * logins);
  CHECK(checkouts >= logins - 4);
  // Every checkout carried a token issued to a login, and each user used its own.
  std::lock_guard lock(m);
  int total = 0;
  for (const auto& [token, n] : checkouts_by_token) {
    CHECK(n == 1);  // a user logs in again for each pass, so each token is used once
    total += n;
  }
  CHECK(static_cast<std::uint64_t>(total) == checkouts);
}

TEST_CASE("a journey step whose capture finds nothing ends the pass", "[probes]") {
  std::atomic<int> checkouts{0};
  test::http_test_server server([&](const test::http_test_request& r) {
    test::http_test_reply reply;
    if (r.target == "/login") reply.body = R"({"nothing":1})";
    if (r.target == "/checkout") ++checkouts;
    return reply;
  });
  params p;
  p.set("url", server.url());
  params checkout = request("checkout", 1, "/checkout");
  checkout.set("headers", std::map<std::string, std::string>{{"Authorization", "Bearer ${token}"}});
  http_load_parts parts;
  parts.journey = true;
  parts.requests = {{request("login", 1, "/login"), {{"token", load_capture::source::json, "/token", 0}}}, {checkout, {}}};
  load_stage users;
  users.kind = load_stage::model::closed;
  users.users = 2;
  users.think_time = 5ms;
  users.duration = 300ms;
  auto config = std::make_shared<const http_load_config>(http_load_config::from(p, {users}, parts));
  timeline tl(clock::now() + 20ms);
  const auto stats = run(config, tl, 1);
  CHECK(checkouts == 0);
  CHECK(stats.captures_failed_total > 0);
  const auto logins = tl.stats("load.login", time_range{});
  CHECK(logins.count(outcome::unexpected_value) == logins.total());
}

TEST_CASE("mix and journey configuration errors name the request and the fix", "[probes]") {
  params p;
  p.set("url", std::string("http://127.0.0.1:8080"));
  load_stage rate = open_stage(10);
  const auto error_of = [&](http_load_parts parts, load_shape shape) {
    try {
      http_load_config::from(p, shape, parts);
    } catch (const param_error& e) {
      return e.param() + ": " + e.what();
    }
    return std::string("accepted");
  };
  http_load_parts twice;
  twice.requests = {{request("a", 1, "/a"), {}}, {request("a", 1, "/b"), {}}};
  CHECK(error_of(twice, {rate}) == "requests[1].name: two requests are named 'a'; each name is a series of its own (load.a)");
  http_load_parts unknown;
  unknown.requests = {{request("a", 1, "/a/${id}"), {}}};
  CHECK(error_of(unknown, {rate}) == "requests[0].url: '${id}' names no value or capture (none are declared; declare values under 'values:')");
  http_load_parts capture;
  capture.requests = {{request("a", 1, "/a"), {{"t", load_capture::source::json, "/t", 0}}}};
  CHECK(error_of(capture, {rate}) ==
        "requests[0].capture: captured values belong to a user's journey; use journey: instead of requests:");
  http_load_parts journey;
  journey.journey = true;
  journey.requests = {{request("a", 1, "/a"), {}}};
  CHECK(error_of(journey, {rate}) ==
        "journey: a journey is what each virtual user does: give the load users (or user stages), not a rate; for an "
        "arrival rate use a mix of requests:");
  http_load_parts zero;
  zero.requests = {{request("a", 0, "/a"), {}}};
  CHECK(error_of(zero, {rate}) == "requests[0].weight: the weights of the mix add up to 0");
}
