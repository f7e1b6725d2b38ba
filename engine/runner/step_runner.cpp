#include "engine/runner/step_runner.hpp"

#include "core/params.hpp"
#include "core/units.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

namespace faultline::engine {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

std::string iso_now() {
  auto now = std::chrono::system_clock::now();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(now));
}

}  // namespace

step_runner::step_runner(const step& s, std::unique_ptr<faults::fault> fault, const step_environment& env)
    : step_(s), fault_(std::move(fault)), env_(env), control_(*env.control), ended_(control_.executor()) {
  record_.step = s.name;
  record_.type = s.type;
  record_.target = s.target;
  record_.action = s.is_action;
  for (const auto& spec : s.fault_type->params) {
    auto it = s.parameters.values().find(spec.name);
    if (it != s.parameters.values().end()) record_.params[spec.name] = format_param(spec.kind, it->second);
  }
}

std::vector<std::unique_ptr<step_runner>> make_step_runners(const experiment& x,
                                                            std::vector<std::unique_ptr<faults::fault>> faults,
                                                            const step_environment& env) {
  std::vector<std::unique_ptr<step_runner>> runners;
  for (std::size_t i = 0; i < x.timeline.steps.size(); ++i)
    runners.push_back(std::make_unique<step_runner>(x.timeline.steps[i], std::move(faults.at(i)), env));
  for (auto& r : runners) {
    if (r->spec().end != step_end::after_step) continue;
    for (auto& other : runners)
      if (other->spec().name == r->spec().until_step) r->end_with(other->ended());
  }
  return runners;
}

double step_runner::offset_now() const {
  return std::chrono::duration<double>(control_.now() - phase_.run_start).count();
}

void step_runner::capture_evidence() {
  try {
    auto e = fault_->collect_evidence();
    record_.evidence = {e.observed, e.summary, e.details};
  } catch (const std::exception& e) {
    record_.evidence.summary = fmt::format("evidence could not be read: {}", e.what());
  }
  record_.engine = fault_->engine();
}

asio::awaitable<void> step_runner::run(fault_phase phase) {
  phase_ = std::move(phase);
  co_await (sleep_until(control_.time(), phase_.start + step_.at) || control_.abort().wait());
  if (control_.abort().is_set()) {
    ended_.set();
    co_return;
  }
  if (step_.is_action) {
    co_await run_action();
    ended_.set();
    co_return;
  }

  // Record how to undo the fault before touching anything, so a killed run can be undone.
  auto undo = fault_->undo_record();
  if (!undo.is_null()) {
    undo_entry entry;
    entry.run_id = env_.run_id;
    entry.pid = ::getpid();
    entry.pid_start_time = process_start_time(entry.pid);
    entry.experiment = env_.experiment;
    entry.step = step_.name;
    entry.type = step_.type;
    entry.record = undo;
    entry.written_at = iso_now();
    env_.state->add(entry);
    recorded_undo_ = true;
  }
  std::string failure;
  bool capability = false;
  try {
    active_ = true;
    co_await fault_->inject();
    record_.injected_at = offset_now();
    control_.log(fmt::format("injected {} [{}]{}", step_.type, step_.name, step_.target.empty() ? "" : " on " + step_.target));
  } catch (const std::exception& e) {
    failure = e.what();
    capability = dynamic_cast<const faults::capability_error*>(&e) != nullptr;
  }
  if (!failure.empty()) {
    record_.error = fmt::format("inject failed: {}", failure);
    control_.log(fmt::format("{} [{}]: {}", step_.type, step_.name, record_.error));
    co_await revert_now("inject failed");  // it may have been applied in part
    ended_.set();
    control_.fail_run(fmt::format("step '{}' ({}): {}", step_.name, step_.type, failure), capability);
    co_return;
  }
  co_await wait_for_end();
  co_await revert_now(control_.abort().is_set() ? "abort" : "end of step");
  ended_.set();
}

asio::awaitable<void> step_runner::run_action() {
  record_.injected_at = offset_now();
  control_.log(fmt::format("running action {} [{}]", step_.type, step_.name));
  try {
    co_await (fault_->inject() || control_.abort().wait());
    if (control_.abort().is_set()) record_.error = "cancelled by abort";
  } catch (const std::exception& e) {
    record_.error = e.what();
  }
  record_.reverted_at = offset_now();
  capture_evidence();
  if (record_.evidence.details.contains("output")) record_.output = record_.evidence.details["output"].get<std::string>();
  control_.log(fmt::format("action {} [{}] finished{}", step_.type, step_.name,
                           record_.error.empty() ? ": " + record_.evidence.summary : ": " + record_.error));
}

asio::awaitable<void> step_runner::wait_for_end() {
  auto& time = control_.time();
  const auto deadline = step_.duration ? phase_.start + step_.at + *step_.duration : clock::time_point::max();
  auto& abort = control_.abort();
  switch (step_.end) {
    case step_end::after_duration:
      co_await (sleep_until(time, deadline) || abort.wait());
      break;
    case step_end::recovered:
      co_await (phase_.recovered(time.now()) || sleep_until(time, deadline) || abort.wait());
      break;
    case step_end::manual:
      co_await (control_.manual_end().wait() || sleep_until(time, deadline) || abort.wait());
      break;
    case step_end::after_step:
      if (until_) co_await (until_->wait() || sleep_until(time, deadline) || abort.wait());
      else co_await (sleep_until(time, deadline) || abort.wait());
      break;
  }
}

asio::awaitable<void> step_runner::revert_now(std::string why) {
  if (!active_ || reverting_) co_return;
  reverting_ = true;
  std::string failure;
  try {
    co_await fault_->revert();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (failure.empty()) {
    record_.reverted_at = offset_now();
    if (recorded_undo_) env_.state->remove(env_.run_id, step_.name);
    control_.log(fmt::format("reverted {} [{}] ({})", step_.type, step_.name, why));
  } else {
    record_.error += (record_.error.empty() ? "" : "; ") + fmt::format("revert failed: {}", failure);
    control_.log(fmt::format("REVERT FAILED for {} [{}]: {}; the state file keeps it for 'faultline recover'",
                             step_.type, step_.name, failure));
  }
  capture_evidence();
  active_ = false;
}

}  // namespace faultline::engine
