#pragma once
// A toy protocol for testing the protocol extension point: "line" splits the client's bytes into
// lines, and a message-level toxic "answer_line" answers a matching line itself instead of
// passing it to the server.

#include "faults/proxy/protocol.hpp"
#include "faults/proxy/toxic_descriptor.hpp"

#include <string>

namespace faultline::test {

namespace fp = faultline::proxy;
using fp::direction;

// A message-level toxic of the test protocol "line": answers a matching line itself. Declared
// as every toxic is, by a descriptor.
struct answer_line final : fp::toxic_config {
  static const fp::toxic_descriptor& type_descriptor() {
    static const fp::toxic_descriptor d{
        .name = "answer_line",
        .summary = "answer a matching line",
        .protocol = "line",
        .noun = "line",
        .params = {fp::text_param("match", "the line", std::nullopt), fp::text_param("reply", "the answer", std::nullopt)},
        .make = fp::made_of<answer_line>(),
        .describe = [](const fp::toxic_stats& s) { return fp::toxic_effect{s.chunks_in_total > 0, "answered"}; },
    };
    return d;
  }
  std::string match;
  std::string reply;
  explicit answer_line(const faultline::params& p) : fp::toxic_config(type_descriptor(), p), match(p.text("match")), reply(p.text("reply")) {}
  answer_line(std::string m, std::string r) : answer_line(fp::settings_of({{"match", m}, {"reply", r}})) {}
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


class line_protocol final : public fp::protocol {
public:
  std::string_view name() const override { return "line"; }
  std::unique_ptr<fp::session> open_session() const override { return std::make_unique<line_session>(); }
};

}  // namespace faultline::test
