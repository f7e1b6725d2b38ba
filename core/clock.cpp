#include "core/clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace faultline {
namespace asio = boost::asio;

namespace {

class timer_alarm final : public alarm {
public:
  explicit timer_alarm(asio::any_io_executor executor) : timer_(std::move(executor)) {}
  ~timer_alarm() override { *alive_ = false; }

  void set(clock::time_point at, std::function<void()> fire) override {
    ++generation_;
    timer_.expires_at(at);  // cancels a pending wait; its handler sees operation_aborted
    timer_.async_wait([this, alive = alive_, generation = generation_, fire = std::move(fire)](boost::system::error_code ec) {
      // A wait that completed just before the alarm was destroyed still runs: `alive` says so.
      if (ec || !*alive || generation != generation_) return;
      fire();
    });
  }

  void cancel() override {
    ++generation_;
    timer_.cancel();
  }

private:
  asio::steady_timer timer_;
  std::uint64_t generation_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class steady_clock_source final : public clock {
public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  std::unique_ptr<alarm> make_alarm(asio::any_io_executor executor) override {
    return std::make_unique<timer_alarm>(std::move(executor));
  }
};

}  // namespace

std::shared_ptr<clock> steady_clock() {
  static const auto source = std::make_shared<steady_clock_source>();
  return source;
}

asio::awaitable<void> sleep_until(clock& time, clock::time_point at) {
  if (time.now() >= at) co_return;
  auto executor = co_await asio::this_coro::executor;
  // The alarm cancels a timer that never expires by itself: waiting on that timer is what makes
  // the sleep cancellable by the caller (awaitable operators, cancellation slots).
  asio::steady_timer wake(executor, asio::steady_timer::time_point::max());
  auto alarm = time.make_alarm(executor);  // declared after `wake`: destroyed (cancelled) first
  alarm->set(at, [&wake] { wake.cancel(); });
  co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> sleep_for(clock& time, clock::duration d) { co_await sleep_until(time, time.now() + d); }

class manual_clock::manual_alarm final : public alarm {
public:
  manual_alarm(manual_clock& owner, asio::any_io_executor executor) : owner_(owner), executor_(std::move(executor)) {
    std::lock_guard lock(owner_.mutex_);
    owner_.alarms_.push_back(this);
  }
  ~manual_alarm() override {
    std::lock_guard lock(owner_.mutex_);
    std::erase(owner_.alarms_, this);
    *alive_ = false;
  }

  void set(clock::time_point at, std::function<void()> fire) override {
    {
      std::lock_guard lock(owner_.mutex_);
      at_ = at;
      fire_ = std::move(fire);
      ++generation_;
    }
    owner_.fire_due();
  }

  void cancel() override {
    std::lock_guard lock(owner_.mutex_);
    fire_ = nullptr;
    ++generation_;
  }

private:
  friend class manual_clock;
  manual_clock& owner_;
  asio::any_io_executor executor_;
  clock::time_point at_{};
  std::function<void()> fire_;
  std::uint64_t generation_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Starts well after the epoch so that "now - some duration" is always a valid time point.
manual_clock::manual_clock() : now_(clock::time_point{} + std::chrono::hours(24)) {}

clock::time_point manual_clock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void manual_clock::advance(duration by) {
  {
    std::lock_guard lock(mutex_);
    now_ += by;
  }
  fire_due();
}

std::unique_ptr<alarm> manual_clock::make_alarm(asio::any_io_executor executor) {
  return std::make_unique<manual_alarm>(*this, std::move(executor));
}

std::optional<clock::time_point> manual_clock::next_alarm() const {
  std::lock_guard lock(mutex_);
  std::optional<time_point> next;
  for (const auto* a : alarms_)
    if (a->fire_ && (!next || a->at_ < *next)) next = a->at_;
  return next;
}

void manual_clock::fire_due() {
  std::lock_guard lock(mutex_);
  for (auto* a : alarms_) {
    if (!a->fire_ || a->at_ > now_) continue;
    auto fire = std::move(a->fire_);
    a->fire_ = nullptr;
    // Posted, never run inline: set() and advance() may be called from inside the data path.
    asio::post(a->executor_, [this, a, alive = a->alive_, generation = a->generation_, fire = std::move(fire)] {
      {
        std::lock_guard relock(mutex_);
        if (!*alive || a->generation_ != generation) return;  // destroyed or set again since
      }
      fire();
    });
  }
}

}  // namespace faultline
