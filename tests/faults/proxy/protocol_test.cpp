// The protocol extension point: a session owns the message pipeline, message-level toxics reach
// it, and byte toxics still apply to what it forwards (including replies it makes up).
#include "faults/proxy/latency.hpp"
#include "faults/proxy/protocol.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;
using fp::direction;

namespace {

// A message-level toxic of the test protocol "line": answers a matching line itself.
struct answer_line final : fp::toxic_config {
  std::string match;
  std::string reply;
  answer_line(std::string m, std::string r) : match(std::move(m)), reply(std::move(r)) {}
  std::string_view type() const override { return "answer_line"; }
  nlohmann::ordered_json attributes() const override { return {{"match", match}, {"reply", reply}}; }
  std::string_view protocol() const override { return "line"; }
};

// Splits the client's bytes into lines; a line matched by an answer_line toxic is answered to
// the client and never reaches the server. Everything else passes untouched.
class line_session final : public fp::session {
public:
  void on_data(direction d, fp::chunk c, fp::session_io& io) override {
    if (d == direction::downstream) {
      io.forward(d, std::move(c));
      return;
    }
    pending_.append(c.bytes.begin(), c.bytes.end());
    for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n')) {
      auto line = pending_.substr(0, nl + 1);
      pending_.erase(0, nl + 1);
      const answer_line* hit = nullptr;
      for (const auto& t : io.message_toxics())
        if (auto* a = dynamic_cast<const answer_line*>(t.config.get()); a && a->match + "\n" == line) {
          hit = a;
          t.counters->chunks_in_total.fetch_add(1);
        }
      auto out = hit ? hit->reply + "\n" : line;
      fp::chunk piece{fp::chunk::kind::data, {out.begin(), out.end()}, io.now()};
      io.forward(hit ? direction::downstream : direction::upstream, std::move(piece));
    }
  }

private:
  std::string pending_;
};

}  // namespace

TEST_CASE("a protocol session can answer the client itself, under byte toxics", "[faults][proxy]") {
  harness h(std::make_unique<line_session>());
  auto counters = std::make_shared<fp::toxic_counters>();
  auto messages = std::make_shared<fp::message_toxic_list>(fp::message_toxic_list{
      {"ping", direction::upstream, 1.0, std::make_shared<answer_line>("PING", "+PONG"), counters}});
  auto latency = h.entry(std::make_shared<fp::latency_toxic>(30ms, 0ms));
  h.start({latency}, messages);

  h.client.write("GET a\nPING\nGET b\n");
  h.poll();
  CHECK(h.server.read() == "GET a\nGET b\n");
  CHECK(h.client.pending() == 0);  // the reply goes through the downstream latency toxic
  h.advance(30ms);
  CHECK(h.client.read() == "+PONG\n");
  CHECK(counters->snapshot().chunks_in_total == 1);

  SECTION("message toxics can be swapped on a live connection") {
    h.conn->set_message_toxics(std::make_shared<fp::message_toxic_list>());
    h.client.write("PING\n");
    h.poll();
    CHECK(h.server.read() == "PING\n");
  }
}

TEST_CASE("the protocol registry knows tcp and rejects duplicates", "[faults][proxy]") {
  fp::protocol_registry r;
  fp::register_builtin_protocols(r);
  CHECK(r.find("tcp"));
  CHECK_FALSE(r.find("line"));
  CHECK_THROWS_AS(r.add(std::make_shared<fp::tcp_protocol>()), std::logic_error);
}
