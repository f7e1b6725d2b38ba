// End to end through the faultline binary against a service with a circuit breaker of known
// thresholds (breaker_service.cpp): a latency fault on the proxy in front of its dependency opens
// the breaker; faultline's time to open, time to close and MTTR must match what the service's own
// log says happened, within one analysis window.

#include "tests/support/command.hpp"
#include "tests/support/eventually.hpp"
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
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr double window_s = 1.0;
constexpr double clock_slack_s = 0.15;  // sampling and scheduling on a busy machine

unsigned short free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// The service, started by the test and killed by its PID.
class service_process {
public:
  service_process(const fs::path& dir, unsigned short proxy_port) {
    const auto log = dir / "service.log";
    ports_file_ = dir / "ports";
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const std::string upstream = "127.0.0.1:" + std::to_string(proxy_port);
      ::execl(BREAKER_SERVICE, BREAKER_SERVICE, "--upstream", upstream.c_str(), "--ports-file", ports_file_.c_str(),
              "--call-timeout-ms", "100", "--failures", "3", "--open-ms", "1500", static_cast<char*>(nullptr));
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


}  // namespace

TEST_CASE("a latency fault opens the service's breaker: time to open, time to close and MTTR match its log",
          "[engine]") {
  const auto dir = fs::temp_directory_path() / ("faultline-breaker-e2e-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto proxy_port = free_port();
  service_process service(dir, proxy_port);
  const auto [http_port, echo_port] = service.ports();

  const auto experiment = dir / "breaker.yaml";
  std::ofstream(experiment) << fmt::format(
      "version: 1\n"
      "name: breaker-e2e\n"
      "settings: {{ window: 1s }}\n"
      "proxies:\n"
      "  backend: {{ listen: 127.0.0.1:{0}, upstream: 127.0.0.1:{1} }}\n"
      "load:\n"
      "  http: {{ url: http://127.0.0.1:{2}/, rate: 20/s, timeout: 1s }}\n"
      "probes:\n"
      "  breaker: {{ metric: {{ url: http://127.0.0.1:{2}/metrics, series: test_breaker_state, every: 100ms }} }}\n"
      "steady_state: {{ for: 2s, timeout: 20s, require: [ \"load.error_rate < 1%\" ] }}\n"
      "timeline:\n"
      "  baseline: 2s\n"
      "  steps:\n"
      "    - {{ at: 0s, for: 4s, fault: latency, target: backend, latency: 300ms }}\n"
      "  recovery: {{ timeout: 15s, stable_for: 2s }}\n"
      "expect:\n"
      "  breaker: {{ opens_within: 2s, closes_within: 4s, probe: breaker }}\n",
      proxy_port, echo_port, http_port);

  const auto run = faultline::test::run_command(fmt::format("{} run {} --report-dir {} --state-file {}",
                                                            faultline::test::faultline_binary(), experiment.string(),
                                                            (dir / "reports").string(), (dir / "state.json").string()));
  INFO(run.output);
  std::ifstream journal_file(dir / "reports" / "breaker-e2e.journal.json");
  REQUIRE(journal_file.good());
  const auto journal = nlohmann::json::parse(journal_file);
  const auto& analysis = journal["analysis"];
  INFO(analysis.dump(2));

  const auto log = read_service_log(dir / "service.log");
  REQUIRE(log.size() >= 2);
  REQUIRE(log.front().change == "closed->open");
  REQUIRE(log.back().change == "half_open->closed");

  const double started = faultline::test::parse_utc_seconds(journal["started_at"].get<std::string>());
  const double injected = journal["faults"][0]["injected_at"].get<double>();
  const double reverted = journal["faults"][0]["reverted_at"].get<double>();
  const double opened_per_log = log.front().unix_s - started - injected;
  const double closed_per_log = log.back().unix_s - started - reverted;
  INFO("service log: opened " << opened_per_log << " s after inject, closed " << closed_per_log << " s after revert");

  // The service's configuration bounds what its log can say: 3 failed calls of 100 ms open it,
  // and it retries 1.5 s after each open, so it closes at most 1.5 s after the revert.
  CHECK(opened_per_log < 1.0);
  CHECK(closed_per_log < 1.5 + clock_slack_s);

  REQUIRE(analysis["breaker"]["source"] == "probe:breaker");
  CHECK(analysis["breaker"]["time_to_open"].get<double>() == Approx(opened_per_log).margin(window_s));
  CHECK(analysis["breaker"]["time_to_close"].get<double>() == Approx(closed_per_log).margin(window_s));
  // MTTR ends at the start of the first steady window: the one after the window the breaker closed in.
  REQUIRE(analysis["recovered"] == true);
  const double mttr = analysis["mttr"].get<double>();
  CHECK(mttr >= closed_per_log - clock_slack_s);
  CHECK(mttr <= closed_per_log + window_s + clock_slack_s);
  CHECK(journal["verdict"]["exit_code"] == 0);
  fs::remove_all(dir);
}
