// The http session on in-memory pipes with a manual clock: what reaches the server and what the
// client gets, in order, with the input fed one byte at a time.
#include "faults/protocol/http/http_session.hpp"
#include "faults/protocol/http/http_toxics.hpp"
#include "tests/faults/protocol/http/http_harness.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace faultline;
using namespace faultline::test;
using namespace faultline::protocol::http;
using fp::direction;

namespace {

const std::string upload =
    "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n";
const std::string aborted = "GET /api/orders?id=7 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody";
const std::string health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string created = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
const std::string fine = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

}  // namespace

TEST_CASE("http session passes pipelined requests byte for byte and answers aborted ones in order", "[faults][protocol]") {
  http_harness h;
  auto counters = h.add(make<http_abort_toxic>({{"path", std::string("/api/*")}, {"body", std::string("no")}}));
  h.begin();
  h.write_bytewise(h.client, upload + aborted + health);
  CHECK(h.server.read() == upload + health);  // the aborted request, body and all, never reaches it
  CHECK(h.client.read().empty());              // its answer waits for the upload's response
  h.write_bytewise(h.server, created + fine);
  CHECK(h.client.read() ==
        created + "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nno" + fine);
  auto s = counters->snapshot();
  CHECK(s.messages_total == 3);
  CHECK(s.messages_matched_total == 1);
  CHECK(s.messages_affected_total == 1);
  auto routes = counters->routes.to_json();
  CHECK(routes["GET /api/orders"]["affected"] == 1);
  CHECK(routes["POST /upload"]["seen"] == 1);
}

// Found by the protocol fuzz target: Boost 1.81's Beast asserts (boostorg/beast#2861) when an
// empty chunked body's "0\r\n" comes alone and the next piece is short, so a build with
// assertions on (the sanitizer lanes, the fuzz targets) aborted here; the release build passed.
TEST_CASE("http session passes empty chunked bodies fed one byte at a time", "[faults][protocol]") {
  http_harness h;
  h.add(make<http_abort_toxic>({{"path", std::string("/api/*")}}));
  h.begin();
  const std::string request = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  const std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  h.write_bytewise(h.client, request + health);
  CHECK(h.server.read() == request + health);
  h.write_bytewise(h.server, response + fine);
  CHECK(h.client.read() == response + fine);
}

TEST_CASE("http session passes an upgraded connection untouched, and an HTTP/2 preface with its SETTINGS frame byte for byte", "[faults][protocol]") {
  SECTION("upgrade") {
    http_harness g;
    g.add(make<http_abort_toxic>({{"path", std::string("/api/*")}}));
    g.begin();
    const std::string request = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
    const std::string frames = "GET /api/x HTTP/1.1\r\n\r\n\x81\x02hi";  // after the switch: not HTTP any more
    g.write_bytewise(g.client, request);
    CHECK(g.server.read() == request);
    g.write_bytewise(g.server, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    CHECK_THAT(g.client.read(), Catch::StartsWith("HTTP/1.1 101"));
    g.write_bytewise(g.client, frames);
    CHECK(g.server.read() == frames);
    g.write_bytewise(g.server, "\x81\x02yo");
    CHECK(g.client.read() == "\x81\x02yo");
  }
  SECTION("HTTP/2 preface") {
    http_harness h;
    h.add(make<http_abort_toxic>({}));
    h.begin();
    const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const std::string settings("\0\0\0\4\0\0\0\0\0", 9);
    h.write_bytewise(h.client, preface + settings);
    CHECK(h.server.read() == preface + settings);
    h.write_bytewise(h.server, settings);
    CHECK(h.client.read() == settings);
  }
}

TEST_CASE("http_delay holds the chosen response and those behind it", "[faults][protocol]") {
  http_harness h;
  h.add(make<http_delay_toxic>({{"delay", std::chrono::nanoseconds(100ms)}, {"path", std::string("/slow")}}));
  h.begin();
  const std::string slow = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  h.client.write(slow + health);
  h.poll();
  CHECK(h.server.read() == slow + health);
  h.server.write(fine + fine);
  h.poll();
  CHECK(h.client.read().empty());
  CHECK(h.time_until(h.client, 2 * fine.size()) >= 99ms);
  CHECK(h.client.read() == fine + fine);
}

TEST_CASE("http session gives the same bytes at every split, an aborted request among them", "[faults][protocol]") {
  const std::string client = upload + aborted + health;
  const std::string server = created + fine;
  const std::string answered =
      created + "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nno" + fine;
  for (std::size_t at = 0; at <= std::max(client.size(), server.size()); ++at) {
    INFO("split at " << at);
    http_harness h;
    auto counters = h.add(make<http_abort_toxic>({{"path", std::string("/api/*")}, {"body", std::string("no")}}));
    h.begin();
    const auto c = std::min(at, client.size());
    h.client.write(client.substr(0, c));
    h.poll();
    h.client.write(client.substr(c));
    h.poll();
    CHECK(h.server.read() == upload + health);
    const auto s = std::min(at, server.size());
    h.server.write(server.substr(0, s));
    h.poll();
    h.server.write(server.substr(s));
    h.poll();
    CHECK(h.client.read() == answered);
    CHECK(counters->snapshot().messages_affected_total == 1);
  }
}
