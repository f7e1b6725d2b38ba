// The redis session on in-memory pipes with a manual clock: what reaches the server, what the
// client gets and when, byte by byte.
#include "faults/protocol/redis/redis_session.hpp"
#include "faults/protocol/redis/redis_toxics.hpp"
#include "faults/protocol/redis/resp.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using namespace faultline::protocol::redis;
using fp::direction;

namespace {

struct redis_harness : message_harness {
  redis_harness() : message_harness(redis_protocol().open_session()) {}
};

std::string resp(std::initializer_list<std::string> args) {
  auto b = command(std::vector<std::string>(args));
  return {b.begin(), b.end()};
}

}  // namespace

TEST_CASE("redis_miss answers matching reads itself, in pipeline order, byte by byte", "[faults][protocol]") {
  redis_harness h;
  auto miss = h.add(std::make_shared<redis_miss_toxic>(command_match({}, "cache:*")));
  h.begin();
  const std::string pipeline = resp({"SET", "cache:1", "v"}) + resp({"GET", "cache:1"}) + resp({"GET", "db:1"}) + "PING\r\n" +
                               resp({"MGET", "cache:1", "cache:2"});
  h.write_bytewise(h.client, pipeline);
  // The server sees everything but the two missed reads.
  CHECK(h.server.read() == resp({"SET", "cache:1", "v"}) + resp({"GET", "db:1"}) + "PING\r\n");
  CHECK(h.client.read().empty());  // the miss waits for the SET's reply
  h.write_bytewise(h.server, "+OK\r\n$2\r\ndb\r\n+PONG\r\n");
  CHECK(h.client.read() == "+OK\r\n$-1\r\n$2\r\ndb\r\n+PONG\r\n*2\r\n$-1\r\n$-1\r\n");
  auto s = miss->snapshot();
  CHECK(s.messages_total == 5);
  CHECK(s.messages_matched_total == 3);  // SET cache:1 matches the pattern, but is no read
  CHECK(s.messages_affected_total == 2);
}

TEST_CASE("redis_delay holds matching replies and everything behind them, nothing else", "[faults][protocol]") {
  redis_harness h;
  auto delay = h.add(std::make_shared<redis_delay_toxic>(command_match({"GET"}, ""), 100ms, 0ms));
  h.begin();
  h.client.write("PING\r\n" + resp({"GET", "a"}) + "PING\r\n");
  h.poll();
  CHECK(h.server.read() == "PING\r\n" + resp({"GET", "a"}) + "PING\r\n");
  h.server.write("+PONG\r\n$1\r\nx\r\n+PONG\r\n");
  h.poll();
  CHECK(h.client.read() == "+PONG\r\n");
  h.advance(99ms);
  CHECK(h.client.pending() == 0);
  h.advance(1ms);
  CHECK(h.client.read() == "$1\r\nx\r\n+PONG\r\n");
  CHECK(delay->snapshot().messages_affected_total == 1);
  CHECK(delay->snapshot().delay_ns_total == 100'000'000);

  SECTION("removing the toxic releases what it held at once") {
    h.client.write(resp({"GET", "b"}));
    h.poll();
    h.server.write("$1\r\ny\r\n");
    h.poll();
    CHECK(h.client.pending() == 0);
    h.conn->set_message_toxics(std::make_shared<fp::message_toxic_list>());
    h.poll();
    CHECK(h.client.read() == "$1\r\ny\r\n");
  }
}

TEST_CASE("redis_error replaces matching commands with the configured error", "[faults][protocol]") {
  redis_harness h;
  h.add(std::make_shared<redis_error_toxic>(command_match({"SET"}, ""), "custom", "ERR backend unavailable"));
  h.begin();
  h.client.write(resp({"SET", "k", "v"}) + resp({"GET", "k"}));
  h.poll();
  CHECK(h.server.read() == resp({"GET", "k"}));
  h.server.write("$-1\r\n");
  h.poll();
  CHECK(h.client.read() == "-ERR backend unavailable\r\n$-1\r\n");
}

TEST_CASE("inside MULTI only delays apply, after SUBSCRIBE the connection passes through", "[faults][protocol]") {
  redis_harness h;
  auto miss = h.add(std::make_shared<redis_miss_toxic>(command_match({}, "")));
  h.begin();
  const auto tx = resp({"MULTI"}) + resp({"GET", "a"}) + resp({"EXEC"});
  h.client.write(tx);
  h.poll();
  CHECK(h.server.read() == tx);
  h.server.write("+OK\r\n+QUEUED\r\n*1\r\n$1\r\nv\r\n");
  h.poll();
  CHECK(h.client.read() == "+OK\r\n+QUEUED\r\n*1\r\n$1\r\nv\r\n");
  CHECK(miss->snapshot().messages_affected_total == 0);

  const auto sub = resp({"SUBSCRIBE", "c"}) + resp({"GET", "a"});
  h.client.write(resp({"GET", "a"}) + sub);
  h.poll();
  CHECK(h.server.read() == sub);  // the first GET was missed; after SUBSCRIBE nothing is touched
  h.server.write("*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n");
  h.poll();
  CHECK(h.client.read() == "$-1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n");
}

TEST_CASE("after HELLO 3 misses are RESP3 nulls and maps, pushes answer no command", "[faults][protocol]") {
  redis_harness h;
  h.add(std::make_shared<redis_miss_toxic>(command_match({"HGETALL", "GET"}, "")));
  h.begin();
  h.client.write(resp({"HELLO", "3"}));
  h.poll();
  h.server.write("%1\r\n+proto\r\n:3\r\n");
  h.poll();
  CHECK(h.client.read() == "%1\r\n+proto\r\n:3\r\n");
  h.client.write(resp({"PING"}) + resp({"HGETALL", "h"}) + resp({"GET", "k"}));
  h.poll();
  h.server.write(">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n+PONG\r\n");
  h.poll();
  CHECK(h.client.read() == ">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n+PONG\r\n%0\r\n_\r\n");
}

TEST_CASE("redis_outage cuts live and new connections", "[faults][protocol]") {
  SECTION("a live connection is reset when the outage starts") {
    redis_harness h;
    h.begin();
    h.client.write("PING\r\n");
    h.poll();
    CHECK(h.server.read() == "PING\r\n");
    auto counters = std::make_shared<fp::toxic_counters>();
    h.conn->set_message_toxics(std::make_shared<fp::message_toxic_list>(
        fp::message_toxic_list{{"outage", direction::downstream, 1.0, std::make_shared<redis_outage_toxic>("reset"), counters}}));
    h.poll();
    CHECK(h.client.was_reset());
    CHECK(counters->snapshot().connections_reset_total == 1);
  }
  SECTION("a new connection is closed at once") {
    redis_harness h;
    auto c = h.add(std::make_shared<redis_outage_toxic>("close"));
    h.begin();
    CHECK(h.client.closed());
    CHECK_FALSE(h.client.was_reset());
    CHECK(c->snapshot().connections_closed_total == 1);
  }
}
