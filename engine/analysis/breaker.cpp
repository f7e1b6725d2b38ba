#include "engine/analysis/breaker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace faultline::engine {
namespace {

double seconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

breaker_event event(breaker_state from, breaker_state to, double after, double by, const char* seen_by) {
  return {after + (by - after) / 2, after, by, from, to, seen_by};
}

// The load's requests in intended order, with what the analysis asks of each, decoded once.
class request_view {
public:
  request_view(const probes::sample_log& log, double fast_failure) : log_(log), fast_failure_(fast_failure) {}

  std::size_t size() const { return log_.size(); }
  double intended(std::size_t i) const { return seconds(log_[i].intended); }
  double completed(std::size_t i) const { return seconds(log_[i].completed()); }
  request_class kind(std::size_t i) const { return classify(log_[i], fast_failure_); }
  bool slow(std::size_t i) const { return seconds(log_[i].latency) >= fast_failure_; }
  // Not rejected: the breaker let it call the dependency (or it looked like a trial).
  bool ok(std::size_t i) const { return kind(i) == request_class::ok; }
  // The gap to the previous request: how finely the load sees around request i.
  double spacing(std::size_t i) const {
    if (size() < 2) return 0;
    return i > 0 ? intended(i) - intended(i - 1) : intended(1) - intended(0);
  }
  // The first request intended after t.
  std::size_t first_after(double t) const {
    std::size_t lo = 0, hi = size();
    while (lo < hi) {
      const auto mid = lo + (hi - lo) / 2;
      if (intended(mid) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

private:
  const probes::sample_log& log_;
  double fast_failure_;
};

std::optional<breaker_state> state_of(double v) {
  for (auto s : {breaker_state::closed, breaker_state::open, breaker_state::half_open})
    if (std::abs(v - static_cast<double>(static_cast<int>(s))) < 1e-9) return s;
  return std::nullopt;
}

// The moves a breaker can make; an observed jump adds the state it must have passed through.
void add_path(std::vector<breaker_event>& out, breaker_state from, breaker_state to, double after, double by) {
  using enum breaker_state;
  if (from == closed && to == half_open) {
    out.push_back(event(closed, open, after, by, "probe"));
    out.push_back(event(open, half_open, after, by, "probe"));
  } else if (from == open && to == closed) {
    out.push_back(event(open, half_open, after, by, "probe"));
    out.push_back(event(half_open, closed, after, by, "probe"));
  } else {
    out.push_back(event(from, to, after, by, "probe"));
  }
}

// A failed trial re-opens the breaker when it completes; the load sees that moment to its spacing.
breaker_event reopened_at(double completion, double spacing, const char* seen_by) {
  return {completion, completion - spacing, completion, breaker_state::half_open, breaker_state::open, seen_by};
}

}  // namespace

const char* to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "closed";
}

request_class classify(const probes::logged_sample& s, double fast_failure) {
  if (!s.failed() && !s.fallback) return request_class::ok;
  return seconds(s.latency) < fast_failure ? request_class::rejected : request_class::slow_failure;
}

std::vector<breaker_event> transitions_from_probe(const probes::sample_log& probe) {
  struct reading {
    double at;
    breaker_state state;
  };
  std::vector<reading> readings;
  for (std::size_t i = 0; i < probe.size(); ++i) {
    const auto s = probe[i];
    if (!s.value) continue;
    if (auto state = state_of(*s.value)) readings.push_back({seconds(s.completed()), *state});
  }
  std::stable_sort(readings.begin(), readings.end(), [](const reading& a, const reading& b) { return a.at < b.at; });
  std::vector<breaker_event> out;
  for (std::size_t i = 1; i < readings.size(); ++i)
    if (readings[i].state != readings[i - 1].state)
      add_path(out, readings[i - 1].state, readings[i].state, readings[i - 1].at, readings[i].at);
  return out;
}

std::vector<breaker_event> transitions_inferred(const probes::sample_log& load, double fast_failure) {
  using enum breaker_state;
  const request_view q(load, fast_failure);
  std::vector<breaker_event> out;
  auto state = closed;
  bool saw_slow_failure = false;  // since the last run of min_rejections ok requests
  std::size_t oks_in_row = 0;
  const auto n = q.size();
  for (std::size_t i = 0; i < n;) {
    const bool rejected = q.kind(i) == request_class::rejected;
    std::size_t j = i;
    while (j < n && (q.kind(j) == request_class::rejected) == rejected) ++j;
    const double before = i > 0 ? q.intended(i - 1) : q.intended(i);
    if (rejected) {
      if (state == closed && saw_slow_failure && j - i >= static_cast<std::size_t>(min_rejections)) {
        out.push_back(event(closed, open, before, q.intended(i), "load"));
        state = open;
      }
    } else if (state == closed) {
      for (std::size_t k = i; k < j; ++k) {
        if (q.kind(k) == request_class::slow_failure) {
          saw_slow_failure = true;
          oks_in_row = 0;
        } else if (++oks_in_row >= static_cast<std::size_t>(min_rejections)) {
          saw_slow_failure = false;
        }
      }
    } else {
      // Requests let through among rejected ones: trials.
      if (state == open) out.push_back(event(open, half_open, before, q.intended(i), "load"));
      state = half_open;
      std::optional<std::size_t> failed;
      for (std::size_t k = i; k < j; ++k)
        if (q.kind(k) == request_class::slow_failure && (!failed || q.completed(k) < q.completed(*failed))) failed = k;
      if (failed) {
        out.push_back(reopened_at(q.completed(*failed), q.spacing(*failed), "load"));
        state = open;
      } else {
        // Successful trials; closed unless requests are still being rejected after them.
        std::size_t rejections_after = 0;
        while (j + rejections_after < n && q.kind(j + rejections_after) == request_class::rejected) ++rejections_after;
        if (rejections_after < static_cast<std::size_t>(min_rejections)) {
          const double closed_at = q.completed(i);
          out.push_back({closed_at, before, std::max(closed_at, q.intended(i)), half_open, closed, "load"});
          state = closed;
          saw_slow_failure = false;
          oks_in_row = j - i;
        }
      }
    }
    i = j;
  }
  return out;
}

std::vector<breaker_event> refine_with_load(const std::vector<breaker_event>& probe, const probes::sample_log& load,
                                            double fast_failure) {
  using enum breaker_state;
  const request_view q(load, fast_failure);
  const auto n = q.size();
  std::vector<breaker_event> out;
  double half_open_since = 0;  // where the probe's current half-open stretch may have begun
  for (const auto& e : probe) {
    auto r = e;
    const auto first = q.first_after(e.after);  // requests intended in (after, by]: [first, last)
    const auto last = q.first_after(e.by);
    const auto narrow = [&](double after, double by) {
      r.after = std::max(e.after, after);
      r.by = std::min(e.by, by);
      if (r.by < r.after) r.by = r.after;
      r.at = r.after + (r.by - r.after) / 2;
      r.seen_by = "probe+load";
    };
    if (e.from == closed && e.to == open) {
      // The last request that waited on the dependency, then the first answered at once.
      std::optional<std::size_t> slow;
      for (std::size_t k = last; k-- > (first > 0 ? first - 1 : 0);)
        if (q.slow(k)) {
          slow = k;
          break;
        }
      if (slow && *slow + 1 < last) narrow(q.intended(*slow), q.intended(*slow + 1));
    } else if (e.from == open && e.to == half_open) {
      // The first trial: a request that waited, or one let through among rejected ones.
      for (std::size_t k = first; k < last; ++k)
        if (k > 0 && (q.slow(k) || (q.ok(k) && q.kind(k - 1) == request_class::rejected))) {
          narrow(q.intended(k - 1), q.intended(k));
          break;
        }
      half_open_since = e.after;
    } else if (e.from == half_open && e.to == open) {
      // The failed trial's answer: the earliest slow request completing in the interval.
      std::optional<double> completion;
      std::size_t which = 0;
      for (std::size_t k = q.first_after(half_open_since); k < last; ++k) {
        const double c = q.completed(k);
        if (q.slow(k) && c > e.after && c <= e.by && (!completion || c < *completion)) {
          completion = c;
          which = k;
        }
      }
      if (completion) {
        r = reopened_at(*completion, q.spacing(which), "probe+load");
        r.after = std::max(r.after, e.after);
      }
    } else if (e.from == half_open && e.to == closed) {
      // Nothing is rejected any more: after the last rejected request (the one just before the
      // interval included: the trial that closed it may be the first request inside).
      for (std::size_t k = last; k-- > (first > 0 ? first - 1 : 0);)
        if (q.kind(k) == request_class::rejected) {
          if (k + 1 < n) narrow(q.intended(k), q.intended(k + 1));
          break;
        }
    }
    out.push_back(r);
  }

  // Half-open trials inside a stretch the probe saw open: failed trials it sampled past.
  std::vector<breaker_event> unseen;
  for (std::size_t i = 0; i < probe.size(); ++i) {
    if (probe[i].to != open) continue;
    const double from = probe[i].by;
    const double until = i + 1 < probe.size() ? probe[i + 1].after : std::numeric_limits<double>::infinity();
    bool rejected_seen = false;
    for (std::size_t k = q.first_after(from); k < n && q.intended(k) <= until;) {
      const auto looks_like_trial = [&](std::size_t m) {
        return q.slow(m) || (q.ok(m) && rejected_seen);
      };
      if (!looks_like_trial(k)) {
        rejected_seen = rejected_seen || q.kind(k) == request_class::rejected;
        ++k;
        continue;
      }
      std::size_t end = k;
      std::optional<double> failed_at;
      std::size_t failed = k;
      while (end < n && q.intended(end) <= until && looks_like_trial(end)) {
        if (q.slow(end) && (!failed_at || q.completed(end) < *failed_at)) {
          failed_at = q.completed(end);
          failed = end;
        }
        ++end;
      }
      if (failed_at && *failed_at <= until && k > 0) {
        unseen.push_back(event(open, half_open, q.intended(k - 1), q.intended(k), "load"));
        unseen.push_back(reopened_at(*failed_at, q.spacing(failed), "load"));
      }
      k = end;
    }
  }
  out.insert(out.end(), unseen.begin(), unseen.end());
  std::stable_sort(out.begin(), out.end(), [](const breaker_event& a, const breaker_event& b) { return a.at < b.at; });
  return out;
}

reports::breaker_record summarize_breaker(const std::vector<breaker_event>& events, double fault_start,
                                          double last_revert, std::string source) {
  reports::breaker_record r;
  r.source = std::move(source);
  std::optional<std::size_t> last_opening;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    r.transitions.push_back({e.at, to_string(e.from), to_string(e.to), e.resolution(), e.seen_by});
    if (e.to != breaker_state::open) continue;
    last_opening = i;
    if (e.from == breaker_state::half_open) ++r.flaps;
    if (e.from == breaker_state::closed && !r.time_to_open && e.by > fault_start) {
      r.time_to_open = std::max(0.0, e.at - fault_start);
      r.time_to_open_resolution = e.resolution();
    }
  }
  if (last_opening)
    for (std::size_t i = *last_opening + 1; i < events.size(); ++i)
      if (events[i].to == breaker_state::closed) {
        r.time_to_close = std::max(0.0, events[i].at - last_revert);
        r.time_to_close_resolution = events[i].resolution();
        break;
      }
  return r;
}

std::string cross_check(const std::vector<breaker_event>& probe, const std::vector<breaker_event>& inferred) {
  const auto same = [](const breaker_event& a, const breaker_event& b) {
    return a.from == b.from && a.to == b.to && std::abs(a.at - b.at) <= (a.resolution() + b.resolution()) / 2 + 1e-3;
  };
  std::size_t matched = 0;
  for (const auto& p : probe)
    if (std::any_of(inferred.begin(), inferred.end(), [&](const breaker_event& q) { return same(p, q); })) ++matched;
  std::size_t missed = 0;
  for (const auto& q : inferred)
    if (q.from == breaker_state::half_open && q.to == breaker_state::open &&
        std::none_of(probe.begin(), probe.end(), [&](const breaker_event& p) { return same(p, q); }))
      ++missed;
  if (probe.empty() && inferred.empty()) return "neither the state probe nor the load's responses showed a transition";
  std::string text = fmt::format("the load's responses showed {} of the {} transitions the state probe saw", matched,
                                 probe.size());
  if (inferred.empty() && !probe.empty())
    text += " (a fallback answering for the dependency hides the breaker from the load unless load.fallback.header "
            "marks its answers)";
  if (missed > 0)
    text += fmt::format(", and {} re-opening{} it sampled past (half-open shorter than the probe's period)", missed,
                        missed == 1 ? "" : "s");
  return text;
}

}  // namespace faultline::engine
