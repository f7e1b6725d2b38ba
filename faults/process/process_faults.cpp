#include "faults/process/process_faults.hpp"

#include "faults/process/process_target.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

namespace faultline::process {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

asio::awaitable<void> pause(nanoseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Waits until `done()` or `limit` passes; true when done.
template <typename Predicate>
asio::awaitable<bool> poll_until(Predicate done, nanoseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    co_await pause(5ms);
  }
  co_return true;
}

void check_signal_permission(const process_ref& p) {
  if (::kill(static_cast<pid_t>(p.pid), 0) != 0 && errno == EPERM)
    throw faults::capability_error(fmt::format("not allowed to signal PID {} ({}): signalling another user's process "
                                               "needs CAP_KILL; run faultline as root or as the process's user",
                                               p.pid, p.name));
}

void send(const process_ref& p, int signal) {
  if (::kill(static_cast<pid_t>(p.pid), signal) != 0)
    throw faults::fault_error(fmt::format("cannot send {} to PID {} ({}): {}", ::strsignal(signal), p.pid, p.name,
                                          std::strerror(errno)));
}

nlohmann::json to_json(const process_ref& p) {
  return {{"pid", p.pid}, {"start_time", p.start_time}, {"name", p.name}};
}

process_ref ref_from_json(const nlohmann::json& j) {
  return {j.at("pid").get<std::int64_t>(), j.at("start_time").get<std::uint64_t>(), j.value("name", "")};
}

class process_stop final : public faults::fault {
public:
  explicit process_stop(std::string target) : target_(std::move(target)) {}

  void preflight() override { check_signal_permission(resolve_process(target_)); }

  nlohmann::json undo_record() const override {
    // Resolved here, just before inject(): that is the process that will be stopped.
    process_ = resolve_process(target_);
    return to_json(*process_);
  }

  asio::awaitable<void> inject() override {
    if (!process_) process_ = resolve_process(target_);
    send(*process_, SIGSTOP);
    stopped_ = co_await poll_until([&] { return process_state(process_->pid) == 'T'; }, 1s);
  }

  asio::awaitable<void> revert() override {
    if (!process_) co_return;
    if (!still_running(*process_)) {
      gone_ = true;
      co_return;
    }
    send(*process_, SIGCONT);
    resumed_ = co_await poll_until([&] { return process_state(process_->pid) != 'T'; }, 1s);
  }

  faults::evidence collect_evidence() const override {
    faults::evidence e;
    if (!process_) return e;
    e.observed = stopped_;
    e.summary = stopped_ ? fmt::format("PID {} ({}) was seen stopped (state T)", process_->pid, process_->name)
                         : fmt::format("PID {} ({}) got SIGSTOP but was not seen stopped", process_->pid, process_->name);
    e.details = {{"pid", process_->pid}, {"name", process_->name}, {"seen_stopped", stopped_},
                 {"resumed", resumed_}, {"gone_at_revert", gone_}};
    return e;
  }

private:
  std::string target_;
  mutable std::optional<process_ref> process_;
  bool stopped_ = false;
  bool resumed_ = false;
  bool gone_ = false;
};

const std::map<std::string, int>& signal_names() {
  static const std::map<std::string, int> names{{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},
                                                {"HUP", SIGHUP},   {"QUIT", SIGQUIT}};
  return names;
}

class process_kill final : public faults::fault {
public:
  process_kill(std::string target, const params& p)
      : target_(std::move(target)), signal_(signal_names().at(p.text("signal"))), wait_(p.duration("wait_exit")) {}

  void preflight() override { check_signal_permission(resolve_process(target_)); }

  asio::awaitable<void> inject() override {
    process_ = resolve_process(target_);
    const auto sent = std::chrono::steady_clock::now();
    send(*process_, signal_);
    exited_ = co_await poll_until([&] { return !still_running(*process_); }, wait_);
    took_ = std::chrono::steady_clock::now() - sent;
  }

  asio::awaitable<void> revert() override { co_return; }

  faults::evidence collect_evidence() const override {
    faults::evidence e;
    if (!process_) return e;
    e.observed = exited_;
    const auto ms = std::chrono::duration<double, std::milli>(took_).count();
    e.summary = exited_ ? fmt::format("PID {} ({}) got SIG{} and exited after {:.0f} ms", process_->pid, process_->name,
                                      signal_name(), ms)
                        : fmt::format("PID {} ({}) got SIG{} and was still running after {:.0f} ms", process_->pid,
                                      process_->name, signal_name(), ms);
    e.details = {{"pid", process_->pid}, {"name", process_->name}, {"signal", signal_name()}, {"exited", exited_},
                 {"exit_seen_after_ms", ms}};
    return e;
  }

private:
  std::string signal_name() const {
    for (const auto& [name, number] : signal_names())
      if (number == signal_) return name;
    return "?";
  }

  std::string target_;
  int signal_;
  nanoseconds wait_;
  std::optional<process_ref> process_;
  bool exited_ = false;
  nanoseconds took_{};
};

}  // namespace

std::vector<faults::fault_type> process_fault_types() {
  std::vector<faults::fault_type> out;

  faults::fault_type stop;
  stop.name = "process_stop";
  stop.summary = "freeze a process with SIGSTOP; SIGCONT on revert";
  stop.family = "process";
  stop.target = faults::target_kind::process;
  stop.exclusive = true;
  stop.create = [](const params&, const faults::fault_context& c) { return std::make_unique<process_stop>(c.target); };
  stop.undo = [](const nlohmann::json& record) {
    auto p = ref_from_json(record);
    if (still_running(p)) send(p, SIGCONT);  // gone or replaced: nothing stopped is left
  };
  out.push_back(std::move(stop));

  faults::fault_type kill;
  kill.name = "process_kill";
  kill.summary = "send a signal to a process (KILL by default) and wait for it to exit";
  kill.family = "process";
  kill.target = faults::target_kind::process;
  kill.action = true;
  kill.params = {
      {"signal", param_kind::choice, "signal to send", std::string("KILL"), false, {}, {}, {"KILL", "TERM", "INT", "HUP", "QUIT"}},
      {"wait_exit", param_kind::duration, "how long to wait for the process to exit", nanoseconds(5s), false, 0.0},
  };
  kill.create = [](const params& p, const faults::fault_context& c) { return std::make_unique<process_kill>(c.target, p); };
  out.push_back(std::move(kill));
  return out;
}

}  // namespace faultline::process
