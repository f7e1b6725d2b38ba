#include "probes/websocket_load.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/websocket_server_process.hpp"
#include "tests/support/websocket_test_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <thread>

using namespace faultline;
using namespace faultline::probes;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;
using test::eventually;
using test::websocket_test_server;

namespace {

params settings(const std::string& url, std::int64_t sessions, double rate = 1) {
  params p;
  p.set("url", url);
  p.set("sessions", sessions);
  p.set("rate", rate);
  return p;
}

std::shared_ptr<const websocket_load_config> config_of(const params& p) {
  return std::make_shared<const websocket_load_config>(websocket_load_config::from(p));
}

// A WebSocket load on its own io_context thread, stopped and drained when it goes.
class running_load {
public:
  running_load(const params& p, timeline& tl, int threads = 1) : config_(config_of(p)) {
    std::vector<boost::asio::any_io_executor> executors;
    for (int i = 0; i < threads; ++i) {
      contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
      guards_.emplace_back(contexts_.back()->get_executor());
      executors.push_back(contexts_.back()->get_executor());
    }
    load_ = std::make_unique<websocket_load>(executors, config_, tl.series(websocket_messages_series),
                                             tl.series(websocket_sessions_series));
    load_->start(tl.start());
    for (auto& c : contexts_) threads_.emplace_back([&c] { c->run(); });
  }
  ~running_load() {
    stop();
    guards_.clear();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
    load_.reset();
  }
  // Stops and waits until every session has ended.
  void stop() {
    load_->stop();
    REQUIRE(eventually([&] { return load_->done(); },
                       std::chrono::duration_cast<std::chrono::milliseconds>(config_->settle_time() + 5s)));
  }
  websocket_load& load() { return *load_; }
  websocket_load_stats stats() const { return load_->stats(); }

private:
  std::shared_ptr<const websocket_load_config> config_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::unique_ptr<websocket_load> load_;
  std::vector<std::thread> threads_;
};

// Runs the load until `reached` holds for its counts, then stops it and waits for every session to
// end; the counts at the end.
template <typename Reached>
websocket_load_stats run_until(const params& p, timeline& tl, Reached reached) {
  running_load run(p, tl);
  REQUIRE(eventually([&] { return reached(run.stats()); }));
  run.stop();
  return run.stats();
}

std::uint64_t count(const series_stats& s, outcome o) { return s.count(o); }

double ms(nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

// A loopback port nothing listens on.
std::uint16_t closed_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace

TEST_CASE("websocket load config: defaults, the id in messages, and errors that name the parameter", "[probes]") {
  auto c = websocket_load_config::from(settings("ws://127.0.0.1:9/live", 10));
  CHECK(c.url.host == "127.0.0.1");
  CHECK(c.url.port == "9");
  CHECK(c.url.target == "/live");
  CHECK(c.rate == 1);
  CHECK(c.match.empty());
  CHECK(c.message_text(42) == R"({"id":42})");
  CHECK(c.timeout == 2s);
  CHECK_FALSE(c.reconnect);

  auto p = settings("ws://localhost/orders/live", 1);
  p.set("message", std::string(R"({"order":7,"id":"{{id}}","again":"{{id}}"})"));
  p.set("match", std::string("/id"));
  c = websocket_load_config::from(p);
  CHECK(c.url.port == "80");
  CHECK(c.match == "/id");
  CHECK(c.message_text(7) == R"({"order":7,"id":"7","again":"7"})");

  struct bad_case {
    const char* param;
    std::string value;
    const char* message;
  };
  for (const auto& b : std::vector<bad_case>{
           {"url", "http://127.0.0.1/", "it must start with ws://"},
           {"url", "wss://127.0.0.1/", "wss is not supported"},
           {"match", "id", "match is 'next' or a JSON pointer"},
       }) {
    auto q = settings("ws://127.0.0.1:9/", 1);
    q.set(b.param, b.value);
    try {
      (void)websocket_load_config::from(q);
      FAIL("accepted " << b.param << ": " << b.value);
    } catch (const param_error& e) {
      CHECK(e.param() == b.param);
      CHECK_THAT(e.what(), Catch::Contains(b.message));
    }
  }
  auto q = settings("ws://127.0.0.1:9/", 1);
  q.set("message", std::string("ping"));
  q.set("match", std::string("/id"));
  CHECK_THROWS_WITH(websocket_load_config::from(q), Catch::Contains("the message has no {{id}} to echo"));
  q = settings("ws://127.0.0.1:9/", 0);
  CHECK_THROWS_AS(websocket_load_config::from(q), param_error);
}

TEST_CASE("websocket load: the round trip to a server answering after 50 ms is 50 ms at p50", "[probes]") {
  const auto match = GENERATE(std::string("next"), std::string("/id"));
  INFO("match: " << match);
  websocket_test_server::options o;
  o.reply_delay = 50ms;
  websocket_test_server server(o);
  timeline tl(probes::clock::now());
  auto p = settings(server.url("/live"), 20, 10);  // 200 messages per second
  p.set("ramp", nanoseconds(200ms));
  p.set("match", match);
  const auto stats = run_until(p, tl, [](const websocket_load_stats& s) { return s.replies_total >= 600; });
  const auto messages = tl.stats(websocket_messages_series, time_range{});
  const auto sessions = tl.stats(websocket_sessions_series, time_range{});
  CHECK(sessions.total() == 20);
  CHECK(count(sessions, outcome::ok) == 20);
  CHECK(messages.errors() == 0);
  CHECK(messages.total() >= 600);
  const auto p50 = ms(messages.latency.percentile(50));
  INFO("p50 " << p50 << " ms, p99 " << ms(messages.latency.percentile(99)) << " ms");
  CHECK(p50 >= 50);
  CHECK(p50 <= 55);
  CHECK(server.snapshot().upgraded == 20);
  CHECK(server.snapshot().held == 0);  // the stop closed every session
  CHECK(server.snapshot().ended == 20);
  // The server's own count: every message sent arrived, and each was answered in time.
  CHECK(static_cast<std::uint64_t>(server.snapshot().messages) == stats.messages_sent_total);
  CHECK(stats.replies_total == stats.messages_sent_total);
  CHECK(messages.total() == stats.messages_sent_total);
}

TEST_CASE("websocket load: a 1 s server stall shows in p99 (latency from the intended send time)", "[probes]") {
  websocket_test_server::options o;
  o.reply_delay = 50ms;
  websocket_test_server server(o);
  timeline tl(probes::clock::now());
  auto p = settings(server.url("/"), 10, 10);  // 100 messages per second
  p.set("timeout", nanoseconds(5s));
  websocket_load_stats stats;
  {
    running_load run(p, tl);
    REQUIRE(eventually([&] { return run.stats().replies_total >= 100; }));
    const auto before = run.stats().replies_total;
    const auto sent_before = run.stats().messages_sent_total;
    server.stall_for(1s);
    // Sending goes on while the server stalls: half-way through the stalled second about 50 more
    // messages have gone out. (Counting messages sent more than 1 ms late instead depends on how
    // busy the machine is.)
    std::this_thread::sleep_for(500ms);
    const auto sent_in_stall = run.stats().messages_sent_total - sent_before;
    CHECK(sent_in_stall >= 25);
    // About 2.5 s of messages after the stall began: the stalled second and some after it.
    REQUIRE(eventually([&] { return run.stats().replies_total >= before + 250; }));
    stats = run.stats();
  }
  const auto messages = tl.stats(websocket_messages_series, time_range{});
  INFO("messages " << messages.total() << " p50 " << ms(messages.latency.percentile(50)) << " ms p99 "
                   << ms(messages.latency.percentile(99)) << " ms max " << ms(messages.latency.max()) << " ms");
  CHECK(messages.errors() == 0);
  CHECK(ms(messages.latency.percentile(99)) >= 700);
  CHECK(ms(messages.latency.max()) >= 950);
  CHECK(ms(messages.latency.max()) < 1500);
}

TEST_CASE("websocket load: messages without a reply time out, and late replies pair with their own message", "[probes]") {
  websocket_test_server::options o;
  o.reply_delay = 400ms;
  websocket_test_server server(o);
  timeline tl(probes::clock::now());
  auto p = settings(server.url("/"), 2, 10);
  p.set("timeout", nanoseconds(200ms));
  const auto stats = run_until(p, tl, [](const websocket_load_stats& s) { return s.messages_timed_out_total >= 20; });
  const auto messages = tl.stats(websocket_messages_series, time_range{});
  CHECK(messages.total() == messages.count(outcome::timeout));
  CHECK(stats.replies_total == 0);
  CHECK(stats.replies_unmatched_total > 0);  // the replies came, too late
  CHECK(ms(messages.latency.min()) >= 200);
  // Seen within a sweep tick (10 ms) plus scheduling delay on a busy machine; before the late
  // reply (400 ms) in any case, since every message counted as a timeout.
  CHECK(ms(messages.latency.max()) < 350);
}

TEST_CASE("websocket load: session outcomes are classed as the connection storm classes them", "[probes]") {
  using o = connection_outcome;
  struct scenario {
    const char* name;
    websocket_test_server::options server;
    o expected;
    outcome sample;
  };
  websocket_test_server::options reset_mode, silent_mode, full, not_found;
  reset_mode.mode = websocket_test_server::accept_mode::reset;
  silent_mode.mode = websocket_test_server::accept_mode::silent;
  full.limit = 0;
  not_found.limit = 0;
  not_found.refuse_status = 404;
  const auto s = GENERATE_COPY(values<scenario>({
      {"reset at once", reset_mode, o::reset, outcome::reset},
      {"upgrade never answered", silent_mode, o::timed_out, outcome::timeout},
      {"upgrade answered 503", full, o::refused, outcome::connect_refused},
      {"upgrade answered 404", not_found, o::handshake_failed, outcome::protocol_error},
  }));
  INFO(s.name);
  websocket_test_server server(s.server);
  timeline tl(probes::clock::now());
  auto p = settings(server.url("/"), 5);
  p.set("connect_timeout", nanoseconds(300ms));
  websocket_load_stats stats;
  {
    running_load run(p, tl);
    REQUIRE(eventually([&] { return run.stats().sessions_attempted_total == 5; }));
    stats = run.stats();
  }
  CHECK(stats.count(s.expected) == 5);
  const auto sessions = tl.stats(websocket_sessions_series, time_range{});
  CHECK(sessions.total() == 5);
  CHECK(sessions.count(s.sample) == 5);
  if (s.expected == o::timed_out) {
    CHECK(ms(sessions.latency.min()) >= 300);
    CHECK(ms(sessions.latency.max()) < 500);  // the deadline plus a sweep tick and scheduling delay
  } else {
    CHECK(ms(sessions.latency.max()) < 280);  // a refusal is fast: well before the 300 ms deadline
  }
  CHECK(tl.stats(websocket_messages_series, time_range{}).total() == 0);
}

TEST_CASE("websocket load: a port nothing listens on refuses every session", "[probes]") {
  timeline tl(probes::clock::now());
  websocket_load_stats stats;
  {
    running_load run(settings("ws://127.0.0.1:" + std::to_string(closed_port()) + "/", 3), tl);
    REQUIRE(eventually([&] { return run.stats().sessions_attempted_total == 3; }));
    stats = run.stats();
  }
  CHECK(stats.count(connection_outcome::refused) == 3);
  CHECK(tl.stats(websocket_sessions_series, time_range{}).count(outcome::connect_refused) == 3);
}

TEST_CASE("websocket load: sessions the server drops move from established to how they ended, and reconnect", "[probes]") {
  const bool reset = GENERATE(false, true);
  INFO((reset ? "reset" : "closed"));
  websocket_test_server::options o;
  o.reply_delay = 300ms;  // messages are waiting when the sessions go
  websocket_test_server server(o);
  timeline tl(probes::clock::now());
  auto p = settings(server.url("/"), 4, 20);
  p.set("reconnect", nanoseconds(100ms));
  websocket_load_stats stats;
  {
    running_load run(p, tl);
    REQUIRE(eventually([&] { return run.stats().sessions_open == 4 && run.stats().messages_sent_total >= 20; }));
    server.drop_sessions(reset);
    REQUIRE(eventually([&] { return run.stats().sessions_dropped_total == 4 && run.stats().sessions_open == 4; }));
    stats = run.stats();
  }
  const auto dropped_as = reset ? connection_outcome::reset : connection_outcome::closed_early;
  CHECK(stats.count(dropped_as) == 4);
  CHECK(stats.count(connection_outcome::established) == 4);  // the reconnected ones
  CHECK(stats.sessions_attempted_total == 8);
  CHECK(stats.messages_lost_total > 0);
  CHECK(server.snapshot().upgraded == 8);
  const auto messages = tl.stats(websocket_messages_series, time_range{});
  CHECK(messages.count(outcome::reset) == stats.messages_lost_total);
}

TEST_CASE("websocket load: 10,000 sessions at 1 message per second are held, as the server counts them", "[probes]") {
  // The server runs in a process of its own: both ends in one process would need 20,000
  // descriptors, the hard limit here.
  test::websocket_server_process server(WEBSOCKET_TEST_SERVER, 5ms);
  timeline tl(probes::clock::now());
  auto p = settings(server.url("/"), 10000, 1);
  p.set("ramp", nanoseconds(5s));
  p.set("connect_timeout", nanoseconds(10s));
  websocket_load_stats stats;
  test::websocket_test_server::counts seen;
  {
    running_load run(p, tl);
    REQUIRE(eventually([&] { return run.stats().sessions_open == 10000; }, 60s));
    REQUIRE(eventually([&] { return server.snapshot().held == 10000; }));
    const auto replies = run.stats().replies_total;
    REQUIRE(eventually([&] { return run.stats().replies_total >= replies + 20000; }, 30s));  // two more rounds
    seen = server.snapshot();
    run.stop();
    stats = run.stats();
  }
  CHECK(seen.held == 10000);
  CHECK(seen.peak_held == 10000);
  CHECK(stats.count(connection_outcome::established) == 10000);
  CHECK(stats.sessions_attempted_total == 10000);
  CHECK(stats.sessions_peak == 10000);
  CHECK(stats.sessions_dropped_total == 0);
  const auto messages = tl.stats(websocket_messages_series, time_range{});
  INFO("messages " << messages.total() << " errors " << messages.errors() << " p50 " << ms(messages.latency.percentile(50))
                   << " ms p99 " << ms(messages.latency.percentile(99)) << " ms");
  CHECK(messages.errors() == 0);
  REQUIRE(eventually([&] { return server.snapshot().held == 0; }));  // the stop closed them all
  // The server's own counts: every message sent arrived, and every one was answered in time.
  const auto after = server.snapshot();
  CHECK(after.ended == 10000);
  CHECK(static_cast<std::uint64_t>(after.messages) == stats.messages_sent_total);
  CHECK(stats.replies_total == stats.messages_sent_total);
  CHECK(messages.total() == stats.messages_sent_total);
}
