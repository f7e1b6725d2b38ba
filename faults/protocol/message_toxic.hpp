#pragma once
// What the PostgreSQL and Redis toxics and sessions share: the base of toxics that choose
// messages with a match, the delay settings of pg_delay and redis_delay, the one selection step
// every message goes through (count it, match it, roll the toxic's toxicity, act), and the hold
// of a reply that delay toxics chose. The sessions then only frame and answer messages.

#include "core/params.hpp"
#include "faults/proxy/protocol.hpp"
#include "faults/proxy/toxic_descriptor.hpp"

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace faultline::protocol {

using config_ptr = std::shared_ptr<const proxy::toxic_config>;
using counters_ptr = std::shared_ptr<proxy::toxic_counters>;

// A message-level toxic that acts on the messages its Match selects. Match is built from the
// toxic's parameters (query_match, command_match) and throws param_error naming a bad one.
template <typename Match>
class matching_toxic : public proxy::toxic_config {
public:
  const Match& match() const { return match_; }

protected:
  matching_toxic(const proxy::toxic_descriptor& type, const params& p) : proxy::toxic_config(type, p), match_(p) {}

private:
  Match match_;
};

// pg_delay's and redis_delay's settings: hold the reply for `delay` +/- `jitter` (uniform).
class message_delay {
public:
  // The `delay` and `jitter` parameters; `held` says what is held ("the response", "the reply").
  static std::vector<proxy::toxic_param> params_for(const std::string& held);

  explicit message_delay(const params& p);  // throws param_error when jitter is larger than delay
  proxy::duration delay() const { return delay_; }
  proxy::duration jitter() const { return jitter_; }
  // One message's delay: uniform in [delay - jitter, delay + jitter], never below 0.
  proxy::duration draw(std::mt19937_64& random) const;

private:
  proxy::duration delay_;
  proxy::duration jitter_;
};

// The selection step for one message and one toxic: counts the message as seen, asks `matches`,
// counts it as matched, and rolls the toxic's toxicity. True when the toxic acts on it.
template <typename Matches>
bool chooses(const proxy::installed_toxic& t, Matches&& matches, std::mt19937_64& random) {
  t.counters->messages_total.fetch_add(1, std::memory_order_relaxed);
  if (!matches()) return false;
  t.counters->messages_matched_total.fetch_add(1, std::memory_order_relaxed);
  return proxy::roll_toxicity(t.toxicity, random);
}

// Offers one message to every toxic of type T on the connection, in the order they were added:
// `matches(const T&)` says whether the toxic wants it; `act(installed_toxic, const T&)` runs for
// each toxic that chose it and returns false when no later toxic may have the message.
template <typename T, typename Matches, typename Act>
void offer(proxy::session_io& io, Matches&& matches, Act&& act) {
  for (const auto& t : io.message_toxics()) {
    const auto* config = dynamic_cast<const T*>(t.config.get());
    if (config && chooses(t, [&] { return matches(*config); }, io.random()) && !act(t, *config)) return;
  }
}

// A toxic acted on a message (answered it, or cut its connection): its counters say so, and
// count the connection it reset or closed.
void count_affected(proxy::toxic_counters& counters);
void count_cut(proxy::toxic_counters& counters, bool reset);

// The delays the toxics chose for one message: its reply is held for their sum.
class reply_hold {
public:
  void add(const proxy::installed_toxic& t, proxy::duration d) { delays_.push_back({t.config, t.counters, d}); }
  bool empty() const { return delays_.empty(); }
  // The reply starts to go out: counts each delay as applied and returns when it may leave (the
  // default time_point, "now", when nothing holds it).
  proxy::time_point start(proxy::session_io& io) const;
  // The toxic the hold is for (the first delay's), so the hold ends when that toxic goes.
  std::shared_ptr<const proxy::toxic_config> holder() const { return delays_.empty() ? nullptr : delays_.front().toxic; }

private:
  struct delayer {
    std::shared_ptr<const proxy::toxic_config> toxic;
    std::shared_ptr<proxy::toxic_counters> counters;
    proxy::duration delay{};
  };
  std::vector<delayer> delays_;
};

// Evidence of a message toxic: observed when it acted on some message.
proxy::toxic_effect affected(const proxy::toxic_stats& s, std::string summary);
// Evidence of a delay toxic: "120 delayed by 800ms on average"; observed when it held a reply.
proxy::toxic_effect delayed(const proxy::toxic_stats& s);

}  // namespace faultline::protocol
