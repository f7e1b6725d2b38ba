#pragma once
// One proxied connection over in-memory pipes with a manual clock: the test writes on the client
// or server pipe, advances time, and reads what came out the other end.

#include "core/clock.hpp"
#include "faults/proxy/connection.hpp"
#include "faults/proxy/protocol.hpp"
#include "tests/support/memory_stream.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <memory>
#include <vector>

namespace faultline::test {

using namespace std::chrono_literals;
namespace fp = faultline::proxy;

struct harness {
  boost::asio::io_context ioc;
  std::shared_ptr<faultline::manual_clock> clock = std::make_shared<faultline::manual_clock>();
  memory_pipe client{ioc.get_executor()};
  memory_pipe server{ioc.get_executor()};
  fp::direction_counters up;
  fp::direction_counters down;
  std::shared_ptr<fp::connection> conn;
  std::uint64_t next_id = 1;
  bool finished = false;

  explicit harness(std::unique_ptr<fp::session> s = fp::tcp_protocol().open_session(), std::size_t buffer_limit = 8u << 20,
                   std::uint64_t seed = 42) {
    fp::connection::settings settings;
    settings.time = clock;
    settings.buffer_limit = buffer_limit;
    settings.seed = seed;
    settings.upstream_counters = &up;
    settings.downstream_counters = &down;
    conn = std::make_shared<fp::connection>(client.proxy_end(), server.proxy_end(), std::move(s), settings);
  }

  // Starts the connection with these toxics (and message toxics for protocol sessions).
  void start(const std::vector<fp::installed_toxic>& toxics = {}, std::shared_ptr<const fp::message_toxic_list> messages = nullptr) {
    conn->start(toxics, std::move(messages), [this] { finished = true; });
    poll();
  }

  fp::installed_toxic entry(std::shared_ptr<const fp::toxic> t, fp::direction d = fp::direction::downstream, double toxicity = 1.0) {
    return {"", d, toxicity, std::move(t), std::make_shared<fp::toxic_counters>(), next_id++};
  }

  void poll() {
    ioc.restart();
    ioc.poll();
  }
  // What is due now happens first, then time moves on.
  void advance(fp::duration d) {
    poll();
    clock->advance(d);
    poll();
  }
  // Advances in steps of `step` until `pipe` has at least `bytes` bytes; returns the time taken.
  fp::duration time_until(memory_pipe& pipe, std::size_t bytes, fp::duration step = 1ms, fp::duration limit = 60s) {
    fp::duration waited{};
    while (pipe.pending() < bytes && waited < limit) {
      advance(step);
      waited += step;
    }
    return waited;
  }
};

// A protocol session's connection with message toxics: add() them (downstream), begin(), then
// feed either side one byte at a time with write_bytewise().
struct message_harness : harness {
  using harness::harness;

  std::shared_ptr<fp::toxic_counters> add(std::shared_ptr<const fp::toxic_config> config, double toxicity = 1.0) {
    auto counters = std::make_shared<fp::toxic_counters>();
    list.push_back({std::string(config->type()), fp::direction::downstream, toxicity, std::move(config), counters});
    return counters;
  }
  void begin() { start({}, std::make_shared<fp::message_toxic_list>(list)); }
  void write_bytewise(memory_pipe& pipe, std::string_view data) {
    for (char c : data) {
      pipe.write(std::string_view(&c, 1));
      poll();
    }
  }

  fp::message_toxic_list list;
};

}  // namespace faultline::test

namespace faultline::test {

// A stage_io that records what a toxic did, for testing a toxic on its own (Toxiproxy's stub
// tests): feed chunks with on_data/on_eof and look at what was passed, dropped or scheduled.
struct recording_io final : fp::stage_io {
  struct passed {
    fp::chunk item;
    fp::time_point at;
  };
  fp::time_point clock_now = fp::time_point{} + 1h;
  std::vector<passed> out;
  std::size_t dropped_bytes = 0;
  std::size_t drops = 0;
  std::optional<fp::time_point> close;
  std::optional<fp::time_point> reset;
  std::mt19937_64 rng{7};

  fp::time_point now() const override { return clock_now; }
  void pass(fp::chunk c, fp::time_point at) override { out.push_back({std::move(c), at}); }
  void drop(const fp::chunk& c) override {
    dropped_bytes += c.size();
    ++drops;
  }
  void close_at(fp::time_point at) override { close = close ? std::min(*close, at) : at; }
  void reset_at(fp::time_point at) override { reset = reset ? std::min(*reset, at) : at; }
  std::mt19937_64& random() override { return rng; }

  fp::chunk data(std::string_view bytes) const { return {fp::chunk::kind::data, {bytes.begin(), bytes.end()}, clock_now}; }
  std::string text(std::size_t i) const { return {out[i].item.bytes.begin(), out[i].item.bytes.end()}; }
};

inline std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return s;
}

}  // namespace faultline::test
