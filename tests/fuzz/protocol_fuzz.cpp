// libFuzzer target for the protocol parsers and sessions (faults/protocol): the RESP command and
// reply readers, inline splitting, glob matching, SQL statement classes, and whole redis,
// postgres and http (HTTP/1.1 and HTTP/2) sessions driven with arbitrary client and server bytes in
// arbitrary pieces, with and without toxics, timers firing in between. Checks, besides "no
// crash, hang or sanitizer report": a redis session without toxics and an http session whose
// toxic matches nothing pass both directions byte for byte, and the RESP readers give the same
// result whole and split.
//
// Input: byte 0 picks the session (bits 6 and 7 both set: http, bit 0 then the HTTP/2 preface
// first; else bit 0: redis or postgres)
// and toxics (bits 1..5); then segments of [header][bytes]: header bit 7 =
// from the server, bits 0..6 + 1 = length; a zero-length header byte 0x7f advances the clock.
// With FAULTLINE_FUZZ_SESSIONS=http in the environment (scripts/fuzz.sh --target http) every input
// drives an http session: bits 6 and 7 of byte 0 are taken as set.
// Build and run: scripts/fuzz.sh (see docs/protocol-faults.md).

#include "faults/protocol/http/http_session.hpp"
#include "faults/protocol/http/http_toxics.hpp"
#include "faults/protocol/postgres/pg_session.hpp"
#include "faults/protocol/postgres/pg_toxics.hpp"
#include "faults/protocol/postgres/sql_class.hpp"
#include "faults/protocol/redis/redis_session.hpp"
#include "faults/protocol/redis/redis_toxics.hpp"
#include "faults/protocol/redis/resp.hpp"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

namespace fp = faultline::proxy;
namespace pr = faultline::protocol;

namespace {

using namespace std::chrono_literals;

// A session_io without sockets: records what the session passes on; timers run when the fuzzer
// advances the clock.
class fake_io final : public fp::session_io {
public:
  explicit fake_io(std::shared_ptr<const fp::message_toxic_list> toxics) : toxics_(std::move(toxics)) {}
  fp::time_point now() const override { return now_; }
  void forward(fp::direction d, fp::chunk c) override {
    if (ended_) return;
    (d == fp::direction::upstream ? to_server : to_client).append(c.bytes.begin(), c.bytes.end());
  }
  void end(fp::direction) override {}
  void close() override { ended_ = true; }
  void reset() override { ended_ = true; }
  void call_at(fp::time_point at, std::function<void(fp::session_io&)> fn) override { timers_.emplace(at, std::move(fn)); }
  const fp::message_toxic_list& message_toxics() const override { return *toxics_; }
  std::mt19937_64& random() override { return random_; }
  void pause_reading(fp::direction, bool) override {}

  void advance(fp::duration d) {
    now_ += d;
    while (!ended_ && !timers_.empty() && timers_.begin()->first <= now_) {
      auto fn = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      fn(*this);
    }
  }
  bool ended() const { return ended_; }

  std::string to_server;
  std::string to_client;

private:
  std::shared_ptr<const fp::message_toxic_list> toxics_;
  fp::time_point now_ = fp::time_point{} + 1h;
  std::multimap<fp::time_point, std::function<void(fp::session_io&)>> timers_;
  std::mt19937_64 random_{1};
  bool ended_ = false;
};

fp::installed_toxic toxic(std::shared_ptr<const fp::toxic_config> c, double toxicity = 1.0) {
  return {std::string(c->type()), fp::direction::downstream, toxicity, std::move(c), std::make_shared<fp::toxic_counters>()};
}

std::shared_ptr<const fp::message_toxic_list> redis_toxics(std::uint8_t bits) {
  namespace r = pr::redis;
  auto list = std::make_shared<fp::message_toxic_list>();
  if (bits & 0x02) list->push_back(toxic(std::make_shared<r::redis_miss_toxic>(r::command_match({}, "k*"))));
  if (bits & 0x04) list->push_back(toxic(std::make_shared<r::redis_error_toxic>(r::command_match({"GET", "SET"}, ""), "BUSY", "")));
  if (bits & 0x08) list->push_back(toxic(std::make_shared<r::redis_delay_toxic>(r::command_match({}, ""), 10ms, 5ms), 0.5));
  if (bits & 0x10) list->push_back(toxic(std::make_shared<r::redis_outage_toxic>("reset"), 0.5));
  return list;
}

std::shared_ptr<const fp::message_toxic_list> pg_toxics(std::uint8_t bits) {
  namespace p = pr::postgres;
  auto list = std::make_shared<fp::message_toxic_list>();
  if (bits & 0x02) list->push_back(toxic(std::make_shared<p::pg_delay_toxic>(p::query_match("", {"select"}), 10ms, 5ms)));
  if (bits & 0x04) list->push_back(toxic(std::make_shared<p::pg_error_toxic>(p::query_match("x", {}), "40001", "", "ERROR")));
  if (bits & 0x08) list->push_back(toxic(std::make_shared<p::pg_drop_toxic>(p::query_match("drop", {}), "reset"), 0.5));
  if (bits & 0x10) list->push_back(toxic(std::make_shared<p::pg_refuse_toxic>("53300", ""), 0.3));
  if (bits & 0x20) list->push_back(toxic(std::make_shared<p::pg_error_toxic>(p::query_match("", {"update"}), "57P01", "", "FATAL")));
  return list;
}

// An http toxic with its declared defaults, then `values`.
template <typename Toxic>
std::shared_ptr<const Toxic> http_toxic(std::map<std::string, faultline::param_value> values) {
  faultline::params p;
  for (const auto& tp : Toxic::type_descriptor().params)
    if (tp.spec.default_value) p.set(tp.spec.name, *tp.spec.default_value);
  for (auto& [k, v] : values) p.set(k, std::move(v));
  return std::make_shared<const Toxic>(p);
}

// Bits 1..5 each add an http toxic; none: one that matches nothing, so the session still parses
// everything and must pass it byte for byte.
std::shared_ptr<const fp::message_toxic_list> http_toxics(std::uint8_t bits) {
  namespace h = pr::http;
  using text = std::string;
  auto list = std::make_shared<fp::message_toxic_list>();
  if (bits & 0x02) list->push_back(toxic(http_toxic<h::http_abort_toxic>({{"path", text("/a*")}, {"body", text("no")}})));
  if ((bits & 0x03) == 0x03) list->push_back(toxic(http_toxic<h::grpc_abort_toxic>({{"rpc", text("S*")}})));
  if (bits & 0x04)
    list->push_back(toxic(http_toxic<h::http_delay_toxic>({{"delay", std::chrono::nanoseconds(10ms)},
                                                           {"jitter", std::chrono::nanoseconds(5ms)},
                                                           {"hold", text("request")},
                                                           {"path_regex", text("/d[0-9]*")}}),
                          0.5));
  if (bits & 0x08)
    list->push_back(toxic(http_toxic<h::http_delay_toxic>({{"delay", std::chrono::nanoseconds(10ms)},
                                                           {"hold", text("response")},
                                                           {"method", std::vector<text>{"GET"}}})));
  if (bits & 0x10)
    list->push_back(toxic(http_toxic<h::http_reset_toxic>({{"after", std::int64_t{3}}, {"mode", text("close")},
                                                           {"path", text("/r*")}})));
  if (bits & 0x20)
    list->push_back(toxic(http_toxic<h::http_rate_limit_toxic>({{"rate", 100.0}, {"headers", std::map<text, text>{{"x-l", "*"}}}})));
  if (list->empty()) list->push_back(toxic(http_toxic<h::http_abort_toxic>({{"path", text("/never-matches/*")}})));
  return list;
}

template <typename Reader, typename Status>
std::string read_all(Reader& r, std::string_view data, std::size_t piece, Status more, bool commands) {
  std::string out;
  auto sink = [&](std::string_view b) { out.append(b); };
  for (std::size_t at = 0; at < data.size(); at += piece) {
    auto part = data.substr(at, piece);
    while (!part.empty()) {
      auto st = r.feed(part, sink);
      if (st == more) break;
      out += '|';
      out += std::to_string(static_cast<int>(st));
      if constexpr (std::is_same_v<Reader, pr::redis::command_reader>) {
        if (st == Reader::status::invalid) return out;
        if (st == Reader::status::limit) {
          r.release();
          continue;
        }
        for (const auto& a : r.args()) out += a.size();
        r.reset();
      } else {
        (void)commands;
        if (st == Reader::status::invalid) return out;
      }
    }
  }
  return out;
}

void fuzz_readers(std::string_view data) {
  // Whole and in pieces of 1 and 7 bytes: the same outcome.
  {
    pr::redis::reply_reader a, b, c;
    auto whole = read_all(a, data, data.size() + 1, pr::redis::reply_reader::status::more, false);
    if (whole != read_all(b, data, 1, pr::redis::reply_reader::status::more, false)) std::abort();
    if (whole != read_all(c, data, 7, pr::redis::reply_reader::status::more, false)) std::abort();
  }
  {
    pr::redis::command_reader a(64), b(64);
    auto whole = read_all(a, data, data.size() + 1, pr::redis::command_reader::status::more, true);
    auto split = read_all(b, data, 1, pr::redis::command_reader::status::more, true);
    (void)whole;
    (void)split;  // limit points differ with the split, so only "no crash" is asked of them
  }
  pr::redis::split_inline(data.substr(0, 4096));
  auto half = data.size() / 2;
  pr::redis::glob_match(data.substr(0, std::min<std::size_t>(half, 64)), data.substr(half, 4096));
  pr::postgres::classify(data.substr(0, 8192));
}

bool http_sessions_only() {
  static const bool only = [] {
    const char* sessions = std::getenv("FAULTLINE_FUZZ_SESSIONS");
    return sessions && std::string_view(sessions) == "http";
  }();
  return only;
}

void fuzz_session(const std::uint8_t* bytes, std::size_t size) {
  if (size < 1) return;
  const std::uint8_t mode = http_sessions_only() ? bytes[0] | 0xc0 : bytes[0];
  const bool http = (mode & 0xc0) == 0xc0;
  const bool redis = !http && (mode & 1) == 0;
  auto toxics = http ? http_toxics(mode) : redis ? redis_toxics(mode) : pg_toxics(mode);
  auto session = http    ? pr::http::http_protocol().open_session()
                 : redis ? pr::redis::redis_protocol().open_session()
                         : pr::postgres::postgres_protocol().open_session();
  fake_io io(toxics);
  session->on_message_toxics(io);
  std::string from_client, from_server;
  const bool h2 = http && (mode & 1) != 0;
  if (h2) {
    const std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    from_client = preface;
    session->on_data(fp::direction::upstream, {fp::chunk::kind::data, fp::byte_buffer(preface.begin(), preface.end()), io.now()}, io);
  }
  std::size_t at = 1;
  while (at < size && !io.ended()) {
    const std::uint8_t header = bytes[at++];
    if (header == 0x7f) {
      io.advance(7ms);
      continue;
    }
    const bool server = (header & 0x80) != 0;
    const std::size_t n = std::min<std::size_t>((header & 0x7f) + 1u, size - at);
    fp::chunk c{fp::chunk::kind::data, fp::byte_buffer(bytes + at, bytes + at + n), io.now()};
    (server ? from_server : from_client).append(reinterpret_cast<const char*>(bytes + at), n);
    at += n;
    session->on_data(server ? fp::direction::downstream : fp::direction::upstream, std::move(c), io);
  }
  io.advance(1s);
  session->on_eof(fp::direction::upstream, io);
  session->on_eof(fp::direction::downstream, io);
  io.advance(1s);
  // (HTTP/2 header blocks are encoded again per hop: not byte for byte)
  const bool untouched = (redis && toxics->empty()) || (http && !h2 && (mode & 0x3e) == 0);
  if (untouched && !io.ended()) {
    if (io.to_server != from_client) std::abort();  // untouched byte for byte
    if (io.to_client != from_server) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz_readers(std::string_view(reinterpret_cast<const char*>(data), size));
  fuzz_session(data, size);
  return 0;
}
