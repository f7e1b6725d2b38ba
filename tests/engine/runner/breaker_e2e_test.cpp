// End to end through the faultline binary against a service with a circuit breaker of known
// thresholds (breaker_service.cpp): a latency fault on the proxy in front of its dependency opens
// the breaker; faultline's time to open, time to close, flaps and MTTR must match what the
// service's own log says happened, to the tolerances (100 ms, flaps +-1, MTTR 200 ms),
// with half-open trials (80 ms) shorter than the state probe's period (200 ms). And the same
// experiment run twice gives the same numbers.

#include "engine/analysis/analysis.hpp"
#include "engine/loader.hpp"
#include "reports/journal.hpp"
#include "tests/support/command.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/test_catalogue.hpp"
#include "tests/support/utc_time.hpp"

#include <boost/asio.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr double tolerance_s = 0.1;       // transitions against the service's log
constexpr double mttr_tolerance_s = 0.2;  // MTTR against the service's close
unsigned short free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// The service, started by the test and killed by its PID.
class service_process {
public:
  service_process(const fs::path& dir, unsigned short proxy_port, int failures = 3, int open_ms = 500) {
    const auto log = dir / "service.log";
    ports_file_ = dir / "ports";
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const std::string upstream = "127.0.0.1:" + std::to_string(proxy_port);
      const std::string fails = std::to_string(failures), open_for = std::to_string(open_ms);
      ::execl(BREAKER_SERVICE, BREAKER_SERVICE, "--upstream", upstream.c_str(), "--ports-file", ports_file_.c_str(),
              "--call-timeout-ms", "80", "--failures", fails.c_str(), "--open-ms", open_for.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~service_process() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  // "http=<port> echo=<port>", once the service listens.
  std::pair<unsigned short, unsigned short> ports() const {
    faultline::test::eventually([&] { return fs::exists(ports_file_); }, 5s);
    std::ifstream in(ports_file_);
    std::string http, echo;
    in >> http >> echo;
    REQUIRE(http.rfind("http=", 0) == 0);
    return {static_cast<unsigned short>(std::stoi(http.substr(5))), static_cast<unsigned short>(std::stoi(echo.substr(5)))};
  }

private:
  pid_t pid_ = -1;
  fs::path ports_file_;
};

struct transition {
  double unix_s;
  std::string change;  // "closed->open"
};

std::vector<transition> read_service_log(const fs::path& log) {
  std::vector<transition> out;
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    long long ms = 0;
    std::string word, change;
    if (fields >> ms >> word >> change && word == "breaker") out.push_back({ms / 1000.0, change});
  }
  return out;
}

// One run of `yaml` (with {proxy}, {echo}, {http} filled in) against a fresh service; the journal.
struct e2e_run {
  nlohmann::json journal;
  std::vector<transition> log;
  std::string output;
};

e2e_run run_experiment(const std::string& name, const std::string& yaml, int failures) {
  const auto dir = fs::temp_directory_path() / ("faultline-breaker-e2e-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  e2e_run out;
  {
    const auto proxy_port = free_port();
    service_process service(dir, proxy_port, failures);
    const auto [http_port, echo_port] = service.ports();
    const auto experiment = dir / "experiment.yaml";
    std::ofstream(experiment) << fmt::format(fmt::runtime(yaml), fmt::arg("name", name), fmt::arg("proxy", proxy_port),
                                             fmt::arg("echo", echo_port), fmt::arg("http", http_port));
    const auto run = faultline::test::run_command(fmt::format(
        "{} run {} --report-dir {} --state-file {}", faultline::test::faultline_binary(), experiment.string(),
        (dir / "reports").string(), (dir / "state.json").string()));
    out.output = run.output;
    std::ifstream journal_file(dir / "reports" / (name + ".journal.json"));
    if (journal_file.good()) out.journal = nlohmann::json::parse(journal_file);
  }
  out.log = read_service_log(dir / "service.log");
  fs::remove_all(dir);
  return out;
}

// Seconds from `from` (a journal time) to a log line's time.
double since(const nlohmann::json& journal, double from, const transition& t) {
  return t.unix_s - faultline::test::parse_utc_seconds(journal["started_at"].get<std::string>()) - from;
}

}  // namespace

TEST_CASE("a latency fault opens the service's breaker: times, flaps and MTTR match its log", "[engine]") {
  const auto run = run_experiment("breaker-e2e",
                                  "version: 1\n"
                                  "name: {name}\n"
                                  "proxies:\n"
                                  "  backend: {{ listen: 127.0.0.1:{proxy}, upstream: 127.0.0.1:{echo} }}\n"
                                  "load:\n"
                                  "  http: {{ url: http://127.0.0.1:{http}/, rate: 100/s, timeout: 1s }}\n"
                                  "probes:\n"
                                  "  breaker: {{ metric: {{ url: http://127.0.0.1:{http}/metrics, series: test_breaker_state, every: 200ms }} }}\n"
                                  "steady_state: {{ for: 2s, timeout: 20s, require: [ \"load.p95 < 250ms\", \"breaker.value == 0\" ] }}\n"
                                  "timeline:\n"
                                  "  baseline: 2s\n"
                                  "  steps:\n"
                                  "    - {{ at: 0s, for: 4s, fault: latency, target: backend, latency: 300ms }}\n"
                                  "  recovery: {{ timeout: 15s, stable_for: 2s }}\n"
                                  "expect:\n"
                                  "  breaker: {{ opens_within: 2s, closes_within: 4s, probe: breaker }}\n"
                                  "  mttr: {{ below: 5s }}\n",
                                  3);
  INFO(run.output);
  REQUIRE(run.journal.is_object());
  const auto& journal = run.journal;
  const auto& analysis = journal["analysis"];
  INFO(analysis["breaker"].dump(1));
  // Each series says whether its latencies describe the system: not the metric probe's, its scrapes.
  REQUIRE(journal["series"].size() >= 2);
  for (const auto& s : journal["series"]) CHECK(s["latency_describes_system"] == (s["name"] != "breaker"));

  const double injected = journal["faults"][0]["injected_at"].get<double>();
  const double reverted = journal["faults"][0]["reverted_at"].get<double>();
  std::optional<double> opened, closed;
  int reopenings = 0;
  for (const auto& t : run.log) {
    if (t.change == "closed->open" && !opened && since(journal, injected, t) > -tolerance_s) opened = since(journal, injected, t);
    if (t.change == "half_open->open") ++reopenings;
    if (t.change == "half_open->closed" && since(journal, reverted, t) > -tolerance_s) closed = since(journal, reverted, t);
  }
  REQUIRE(opened);
  REQUIRE(closed);
  INFO("service log: opened " << *opened << " s after inject, closed " << *closed << " s after revert, "
                              << reopenings << " re-openings");
  // What the service's configuration allows: 3 failed calls of 80 ms open it; it tries again 500 ms
  // after each opening, so the fault (4 s) sees several failed trials, each shorter than the probe's period.
  CHECK(*opened < 1.0);
  CHECK(reopenings >= 3);

  REQUIRE(analysis["breaker"]["source"] == "probe:breaker");
  CHECK(analysis["breaker"]["time_to_open"].get<double>() == Approx(*opened).margin(tolerance_s));
  CHECK(analysis["breaker"]["time_to_close"].get<double>() == Approx(*closed).margin(tolerance_s));
  CHECK(std::abs(analysis["breaker"]["flaps"].get<int>() - reopenings) <= 1);
  CHECK(analysis["breaker"]["time_to_open_resolution"].get<double>() <= 0.2 + 0.01);
  REQUIRE(analysis["recovered"] == true);
  CHECK(analysis["mttr"].get<double>() == Approx(*closed).margin(mttr_tolerance_s));
  CHECK(analysis["mttr_resolution"].get<double>() <= 0.25);
  CHECK(journal["verdict"]["exit_code"] == 0);

  // The journal holds what the analysis needs: analysed again, the same numbers.
  auto again = faultline::reports::journal_from_json(journal);
  const auto stored = again.analysis;
  faultline::engine::reanalyse(again, faultline::engine::parse_experiment(again.experiment.resolved_yaml, again.experiment.file,
                                                                          faultline::test::builtin_catalogue(), {}));
  CHECK(again.analysis == stored);
  // And through the CLI: `faultline report --reanalyse` renders what the stored analysis renders.
  const auto path = fs::temp_directory_path() / ("faultline-breaker-e2e-" + std::to_string(::getpid()) + ".journal.json");
  std::ofstream(path) << journal.dump();
  const auto stored_md = faultline::test::run_command(faultline::test::faultline_binary() + " report " + path.string() + " --markdown -");
  const auto again_md =
      faultline::test::run_command(faultline::test::faultline_binary() + " report " + path.string() + " --reanalyse --markdown -");
  fs::remove(path);
  CHECK(stored_md.exit_code == 0);
  CHECK(again_md.exit_code == 0);
  CHECK_THAT(stored_md.output, Catch::Contains("| MTTD | MTTR |"));
  CHECK(again_md.output == stored_md.output);
}

TEST_CASE("the same experiment twice: the same score and MTTR", "[engine]") {
  // A breaker that never opens: every call fails while the fault lasts, and the load recovers as
  // soon as it is reverted. MTTR is how long the last failures stay in the steady state's 1 s
  // window; analysed per window it would jump with where the revert fell in its window.
  const std::string yaml =
      "version: 1\n"
      "name: {name}\n"
      "proxies:\n"
      "  backend: {{ listen: 127.0.0.1:{proxy}, upstream: 127.0.0.1:{echo} }}\n"
      "load:\n"
      "  http: {{ url: http://127.0.0.1:{http}/, rate: 100/s, timeout: 1s }}\n"
      "steady_state: {{ for: 2s, timeout: 20s, require: [ \"load.error_rate < 1%\" ] }}\n"
      "timeline:\n"
      "  baseline: 2s\n"
      "  steps:\n"
      "    - {{ at: 0s, for: 2s, fault: latency, target: backend, latency: 300ms }}\n"
      "  recovery: {{ timeout: 15s, stable_for: 2s }}\n"
      "expect:\n"
      "  mttr: {{ below: 2s }}\n"
      "  during_fault: [ \"load.error_rate < 50%\" ]\n";
  const auto first = run_experiment("twice-1", yaml, 1000000);
  const auto second = run_experiment("twice-2", yaml, 1000000);
  INFO(first.output << second.output);
  REQUIRE(first.journal.is_object());
  REQUIRE(second.journal.is_object());
  const auto& a = first.journal["analysis"];
  const auto& b = second.journal["analysis"];
  INFO(a["mttr"] << " " << b["mttr"] << "; scores " << a["score"] << " " << b["score"]);
  REQUIRE(a["mttr"].is_number());
  REQUIRE(b["mttr"].is_number());
  CHECK(std::abs(a["score"].get<double>() - b["score"].get<double>()) <= 3);
  CHECK(std::abs(a["mttr"].get<double>() - b["mttr"].get<double>()) <= 0.3);
  // The last failures are intended just before the revert and leave the window 1 s later.
  CHECK(a["mttr"].get<double>() == Approx(1.0).margin(0.15));
}
