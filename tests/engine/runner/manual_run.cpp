#include "tests/engine/runner/manual_run.hpp"

#include "engine/loader.hpp"
#include "engine/runner/preflight.hpp"
#include "tests/support/test_catalogue.hpp"

#include <boost/asio/co_spawn.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

namespace faultline::test {
namespace {

using namespace std::chrono_literals;

std::filesystem::path scratch_dir() {
  static std::atomic<int> next{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("faultline-manual-run-" + std::to_string(::getpid()) + "-" + std::to_string(next++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

manual_run::manual_run(const std::string& yaml, bool interactive)
    : dir_(scratch_dir()),
      x(engine::parse_experiment(yaml, "t.yaml", {registry_, test_probes()}, {})),
      control(io.get_executor(), time, [this](const std::string& line) { log.push_back(line); }),
      state(dir_ / "state.json"),
      timeline(time->now(), probes::timeline_options{x.settings.window, 1ms, x.settings.fast_failure}),
      checks(x, timeline, 1s),
      status(status_out, false, timeline, *time, ""),
      phases(x, control, timeline, checks, status, steps) {
  faults::fault_context base;
  base.executor = io.get_executor();
  steps = engine::make_step_runners(x, engine::prepare_faults(x, base, interactive),
                                    {&control, &state, "run-1", x.name});
}

manual_run::~manual_run() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void manual_run::health(std::chrono::nanoseconds from, std::chrono::nanoseconds to, bool ok) {
  const auto every = x.settings.window / 4;
  auto series = timeline.series("health");
  for (auto at = from; at < to; at += every) {
    const auto intended = start() + at;
    series.record({intended, intended, 1ms, ok ? probes::outcome::ok : probes::outcome::timeout, std::nullopt});
  }
}

void manual_run::start_phases() {
  boost::asio::co_spawn(
      io,
      [this]() -> boost::asio::awaitable<void> {
        co_await phases.run();
        control.finished().set();
        phases_done_ = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
}

void manual_run::start_steps(std::chrono::nanoseconds fault_start) {
  engine::fault_phase timing{start(), start() + fault_start,
                             [this](clock::time_point) -> boost::asio::awaitable<void> { co_await recovered.wait(); }};
  for (auto& s : steps)
    boost::asio::co_spawn(io, s->run(timing), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
}

void manual_run::poll() {
  io.restart();
  io.poll();
}

bool manual_run::run_until(std::chrono::nanoseconds limit) {
  const auto until = start() + limit;
  for (;;) {
    poll();
    if (phases_done_) return true;
    const auto next = time->next_alarm();
    if (!next || *next > until) break;
    time->advance(std::max(clock::duration::zero(), *next - time->now()));
  }
  if (time->now() < until) time->advance(until - time->now());
  poll();
  return phases_done_;
}

engine::step_runner& manual_run::step(const std::string& name) {
  for (auto& s : steps)
    if (s->spec().name == name) return *s;
  throw std::invalid_argument("no step named " + name);
}

bool manual_run::logged(const std::string& part) const {
  return std::any_of(log.begin(), log.end(), [&](const std::string& line) { return line.find(part) != std::string::npos; });
}

}  // namespace faultline::test
