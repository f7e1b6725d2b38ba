// The phase a run's metrics publish for the kinds of run without a fault timeline: a levels run
// says `level` and which level, a capacity run `capacity` then `capacity_under_fault` with its
// trials; both end `done`. In-process runs against a loopback HTTP server, every publication
// recorded as a metrics_sink receives it.
#include "engine/loader.hpp"
#include "engine/metrics/run_metrics.hpp"
#include "engine/runner/session.hpp"
#include "faults/fault.hpp"
#include "probes/probe.hpp"
#include "tests/support/http_test_server.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

using namespace std::chrono_literals;
namespace engine = faultline::engine;

namespace {

// Every publication's text, in order.
class recording_sink final : public engine::metrics_sink {
public:
  void publish(const faultline::prometheus::exposition& run, const faultline::prometheus::exposition& proxies,
               bool final) override {
    texts.push_back(run.text() + proxies.text());
    finals += final ? 1 : 0;
  }
  std::vector<std::string> texts;
  int finals = 0;

  // The index of the first publication holding `line`; -1 when none does.
  int first_with(const std::string& line) const {
    for (std::size_t i = 0; i < texts.size(); ++i)
      if (texts[i].find(line + "\n") != std::string::npos) return static_cast<int>(i);
    return -1;
  }
};

struct run_result {
  recording_sink sink;
  faultline::reports::journal journal;
  std::string output;
};

std::unique_ptr<run_result> run(const std::string& yaml) {
  faultline::faults::fault_registry faults;
  faultline::faults::register_builtin_faults(faults);
  faultline::probes::probe_registry probes;
  faultline::probes::register_builtin_probes(probes);
  const auto x = engine::parse_experiment(yaml, "metrics-test.yaml", {faults, probes}, {});
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("faultline-run-metrics-test-{}", ::getpid());
  std::filesystem::create_directories(dir);
  auto r = std::make_unique<run_result>();
  std::ostringstream out;
  engine::run_options options;
  options.state_path = dir / "state.json";
  options.out = &out;
  options.metrics = &r->sink;
  engine::session s(x, faults, probes, options);
  r->journal = s.run();
  r->output = out.str();
  std::filesystem::remove_all(dir);
  return r;
}

std::string phase_line(const std::string& experiment, const std::string& phase, int value) {
  return fmt::format("faultline_run_phase{{experiment=\"{}\",phase=\"{}\"}} {}", experiment, phase, value);
}

}  // namespace

TEST_CASE("a levels run publishes the level phase and the level under way, then done", "[engine]") {
  faultline::test::http_test_server server;
  const auto r = run(fmt::format("version: 1\nname: lv\n"
                                 "load:\n  http: {{ url: \"{}\" }}\n"
                                 "  levels:\n"
                                 "    - {{ name: calm, rate: 20/s, for: 1s }}\n"
                                 "    - {{ name: busy, rate: 40/s, for: 1s }}\n"
                                 "settings: {{ window: 250ms }}\n",
                                 server.url("/")));
  INFO(r->output);
  REQUIRE(r->sink.texts.size() >= 3);
  CHECK(r->sink.finals == 1);
  const auto calm = r->sink.first_with("faultline_run_level{experiment=\"lv\",level=\"calm\"} 1");
  const auto busy = r->sink.first_with("faultline_run_level{experiment=\"lv\",level=\"busy\"} 1");
  CHECK(calm >= 0);
  CHECK(busy > calm);
  CHECK(r->sink.first_with(phase_line("lv", "level", 1)) == calm);
  const auto& last = r->sink.texts.back();
  CHECK(last.find(phase_line("lv", "done", 1)) != std::string::npos);
  CHECK(last.find(phase_line("lv", "level", 0)) != std::string::npos);
  // A levels run has no fault timeline: its phases are its own.
  for (const auto& t : r->sink.texts) CHECK(t.find("phase=\"baseline\"") == std::string::npos);
}

TEST_CASE("a capacity run publishes capacity, then capacity_under_fault, with its trials, then done", "[engine]") {
  faultline::test::http_test_server server;
  faultline::test::http_test_server dependency;  // the fault's proxy leads here; the load does not use it
  const auto r = run(fmt::format(
      "version: 1\nname: cap\n"
      "proxies:\n  dep: {{ listen: 127.0.0.1:0, upstream: 127.0.0.1:{} }}\n"
      "load:\n  http: {{ url: \"{}\", timeout: 500ms }}\n"
      "  capacity: {{ from: 20/s, up_to: 40/s, trial: 1s, warmup: 250ms, cooldown: 250ms, require: [ \"load.error_rate < 50%\" ] }}\n"
      "timeline:\n  steps: [ {{ at: 0s, for: 1s, fault: latency, target: dep, latency: 10ms }} ]\n"
      "expect:\n  capacity: {{ at_least: 1/s }}\n"
      "settings: {{ window: 250ms }}\n",
      dependency.port(), server.url("/")));
  INFO(r->output);
  REQUIRE(r->sink.texts.size() >= 3);
  const auto healthy = r->sink.first_with(phase_line("cap", "capacity", 1));
  const auto under_fault = r->sink.first_with(phase_line("cap", "capacity_under_fault", 1));
  CHECK(healthy >= 0);
  CHECK(under_fault > healthy);
  CHECK(r->sink.first_with("faultline_capacity_trial_rate{experiment=\"cap\",search=\"healthy\"} 20") >= healthy);
  CHECK(r->sink.first_with("faultline_capacity_trial_rate{experiment=\"cap\",search=\"under_fault\"} 20") >= under_fault);
  const auto& last = r->sink.texts.back();
  CHECK(last.find(phase_line("cap", "done", 1)) != std::string::npos);
  // The counters agree with the journal's trials.
  const auto& searches = r->journal.analysis.capacity;
  REQUIRE(searches.size() == 2);
  CHECK(last.find(fmt::format("faultline_capacity_trials_total{{experiment=\"cap\",search=\"healthy\"}} {}\n",
                              searches[0].trials.size())) != std::string::npos);
  CHECK(last.find(fmt::format("faultline_capacity_trials_total{{experiment=\"cap\",search=\"under_fault\"}} {}\n",
                              searches[1].trials.size())) != std::string::npos);
  CHECK(last.find("phase=\"recovery\"") == std::string::npos);
}
