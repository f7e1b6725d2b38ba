#pragma once
// A fault that changes nothing and records what the runner asked of it: each inject() and revert()
// with the time on the test's clock. Told to, it fails (as a fault or as a missing capability) or
// blocks until released, so the runner's sequencing is tested without a system or real time.

#include "core/clock.hpp"
#include "faults/fault.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace faultline::test {

struct fake_call {
  std::string step;
  std::string what;  // "inject", "revert", "run" (an action), "undo" (crash recovery)
  clock::time_point at;
};

// How the fake of one step behaves.
struct fake_behaviour {
  bool fail_inject = false;
  bool capability = false;  // the inject failure is a missing capability (exit 2)
  bool fail_revert = false;
  bool block = false;  // inject() (or an action's run) waits for release(), or for cancellation
  nlohmann::json undo = nullptr;  // the record written to the state file before inject()
};

// Every fake of one test: their calls in order, and how each step's fake behaves.
class fake_world {
public:
  explicit fake_world(faultline::clock& time) : time_(time) {}
  fake_world(const fake_world&) = delete;
  fake_world& operator=(const fake_world&) = delete;

  std::map<std::string, fake_behaviour> behaviour;  // by step name; absent: succeeds at once
  std::vector<fake_call> calls;
  std::function<void(const std::string& step)> on_inject;  // called as inject() begins

  // The calls as "inject a @5s" lines, times from `start`, for readable comparisons.
  std::vector<std::string> timeline(clock::time_point start) const {
    std::vector<std::string> out;
    for (const auto& c : calls)
      out.push_back(fmt::format("{} {} @{}ms", c.what, c.step,
                                std::chrono::duration_cast<std::chrono::milliseconds>(c.at - start).count()));
    return out;
  }

  // A blocked step's inject() (or action) completes.
  void release(const std::string& step) {
    if (auto it = gates_.find(step); it != gates_.end()) it->second->cancel();
  }

  // Fault type "fake" (no target) and action type "fake_action", made by this world.
  faults::fault_registry registry() {
    faults::fault_registry r;
    faults::fault_type fault;
    fault.name = "fake";
    fault.summary = "records inject and revert";
    fault.family = "test";
    fault.params = {{"label", param_kind::text, "", std::string("none")}};
    fault.create = [this](const params&, const faults::fault_context& c) {
      return std::make_unique<fake_fault>(*this, c, false);
    };
    fault.undo = [this](const nlohmann::json& record) { calls.push_back({record.value("step", ""), "undo", time_.now()}); };
    r.add(fault);
    faults::fault_type action = fault;
    action.name = "fake_action";
    action.action = true;
    action.create = [this](const params&, const faults::fault_context& c) {
      return std::make_unique<fake_fault>(*this, c, true);
    };
    r.add(action);
    return r;
  }

private:
  class fake_fault final : public faults::fault {
  public:
    fake_fault(fake_world& world, const faults::fault_context& c, bool action)
        : world_(world), step_(c.step_name), action_(action), gate_(c.executor) {
      world_.gates_[step_] = &gate_;
    }
    ~fake_fault() override { world_.gates_.erase(step_); }

    boost::asio::awaitable<void> inject() override {
      world_.calls.push_back({step_, action_ ? "run" : "inject", world_.time_.now()});
      if (world_.on_inject) world_.on_inject(step_);
      const auto b = behaviour();
      if (b.block) {
        gate_.expires_at(boost::asio::steady_timer::time_point::max());
        co_await gate_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      }
      if (b.fail_inject && b.capability) throw faults::capability_error("the fake lacks a capability");
      if (b.fail_inject) throw faults::fault_error("the fake refused to inject");
    }

    boost::asio::awaitable<void> revert() override {
      world_.calls.push_back({step_, "revert", world_.time_.now()});
      if (behaviour().fail_revert) throw faults::fault_error("the fake refused to revert");
      co_return;
    }

    faults::evidence collect_evidence() const override { return {true, "fake evidence", nlohmann::json::object()}; }

    nlohmann::json undo_record() const override {
      auto undo = behaviour().undo;
      if (!undo.is_null()) undo["step"] = step_;
      return undo;
    }

  private:
    fake_behaviour behaviour() const {
      auto it = world_.behaviour.find(step_);
      return it == world_.behaviour.end() ? fake_behaviour{} : it->second;
    }

    fake_world& world_;
    std::string step_;
    bool action_;
    boost::asio::steady_timer gate_;  // never expires: release() cancels it
  };

  faultline::clock& time_;
  std::map<std::string, boost::asio::steady_timer*> gates_;
};

}  // namespace faultline::test
