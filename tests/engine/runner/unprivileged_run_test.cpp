// faultline as an ordinary user, end to end through the binary: a proxy-only experiment (latency
// on a proxy, HTTP load, reports) passes with its state file under XDG_STATE_HOME; a network fault
// stops in preflight naming CAP_NET_ADMIN, before anything starts, and changes nothing, and so does
// stopping another user's process (CAP_KILL). As root the
// test runs faultline as user nobody (setpriv); as anyone else, as that user.

#include "tests/support/command.hpp"
#include "tests/support/http_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
namespace test = faultline::test;

namespace {

unsigned short free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A scratch directory the unprivileged user owns a home in, with its own copy of faultline (the
// build tree may not be readable by that user). Removed at the end.
class unprivileged_user {
public:
  unprivileged_user() {
    std::string pattern = (fs::temp_directory_path() / "faultline-unprivileged-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    home_ = dir_ / "home";
    fs::create_directory(home_);
    fs::copy_file(test::faultline_binary(), dir_ / "faultline");
    if (::geteuid() == 0) {
      const passwd* nobody = ::getpwnam("nobody");
      REQUIRE(nobody != nullptr);
      REQUIRE(::chown(home_.c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
      as_user_ = fmt::format("setpriv --reuid={} --regid={} --clear-groups --inh-caps=-all ", nobody->pw_uid,
                             nobody->pw_gid);
    }
  }
  ~unprivileged_user() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  unprivileged_user(const unprivileged_user&) = delete;
  unprivileged_user& operator=(const unprivileged_user&) = delete;

  const fs::path& home() const { return home_; }
  fs::path write(const std::string& name, const std::string& text) const {
    const auto p = dir_ / name;
    std::ofstream(p) << text;
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    return p;
  }
  // `faultline ARGS` as the user, with an empty environment but for PATH, HOME and XDG_STATE_HOME.
  test::command_result faultline(const std::string& args) const {
    return test::run_command(fmt::format("{}env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME={} XDG_STATE_HOME={} {} {}",
                                         as_user_, home_.string(), (home_ / "state").string(),
                                         (dir_ / "faultline").string(), args));
  }

private:
  fs::path dir_;
  fs::path home_;
  std::string as_user_;  // the setpriv prefix, when running as root
};

std::string qdiscs_of_lo() {
  auto r = test::run_command("tc qdisc show dev lo");
  return r.exit_code == 0 ? r.output : std::string("(tc not available)");
}

}  // namespace

TEST_CASE("a proxy-only experiment passes as an ordinary user, its state file under XDG_STATE_HOME", "[engine]") {
  unprivileged_user user;
  test::http_test_server upstream;
  const auto proxy_port = free_port();
  const auto experiment = user.write("proxy-only.yaml", fmt::format(R"(version: 1
name: proxy-only
proxies:
  upstream: {{ listen: "127.0.0.1:{0}", upstream: "127.0.0.1:{1}" }}
load:
  http: {{ url: "http://127.0.0.1:{0}/", rate: 20/s, timeout: 2s }}
steady_state:
  for: 1s
  timeout: 20s
  require: [ "load.error_rate < 5%" ]
timeline:
  baseline: 1s
  steps:
    - {{ at: 0s, for: 2s, fault: latency, target: upstream, latency: 100ms }}
  recovery: {{ timeout: 20s, stable_for: 1s }}
expect:
  during_fault: [ "load.error_rate < 5%" ]
)",
                                                                      proxy_port, upstream.port()));
  const auto reports = user.home() / "reports";
  auto r = user.faultline(fmt::format("run {} --report-dir {}", experiment.string(), reports.string()));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("=== proxy-only: passed"));
  CHECK(fs::exists(reports / "proxy-only.journal.json"));
  CHECK_THAT(read_file(reports / "proxy-only.journal.json"), Catch::Contains("\"result\": \"passed\""));
  CHECK(fs::exists(reports / "index.html"));
  // The state file's default for an ordinary user: $XDG_STATE_HOME/faultline/.
  CHECK(fs::exists(user.home() / "state" / "faultline"));
  CHECK(upstream.requests() > 0);
}

TEST_CASE("a network fault as an ordinary user stops in preflight naming CAP_NET_ADMIN and changes nothing", "[engine]") {
  unprivileged_user user;
  const auto experiment = user.write("network.yaml", R"(version: 1
name: network-as-user
proxies:
  db: { listen: "127.0.0.1:0", upstream: "127.0.0.1:9" }
load:
  http: { url: "http://127.0.0.1:9/", rate: 10/s }
timeline:
  baseline: 1s
  steps:
    - { at: 0s, for: 2s, fault: network, target: lo, ports: [ "9" ], delay: 30ms }
)");
  const auto qdiscs_before = qdiscs_of_lo();
  const auto reports = user.home() / "reports";
  auto r = user.faultline(fmt::format("run {} --report-dir {}", experiment.string(), reports.string()));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("network.yaml:") && Catch::Contains("CAP_NET_ADMIN") &&
                           Catch::Contains("nothing was started or changed"));
  // Before anything started: no proxy, no report directory, no state file, the same qdiscs.
  CHECK_THAT(r.output, !Catch::Contains("proxy db:"));
  CHECK_FALSE(fs::exists(reports));
  CHECK_FALSE(fs::exists(user.home() / "state"));
  CHECK(qdiscs_of_lo() == qdiscs_before);
}

TEST_CASE("stopping another user's process as an ordinary user stops in preflight naming CAP_KILL", "[engine]") {
  unprivileged_user user;
  // PID 1 belongs to root wherever the test runs.
  const auto experiment = user.write("process.yaml", R"(version: 1
name: process-as-user
timeline:
  baseline: 1s
  steps:
    - { at: 0s, for: 2s, fault: process_stop, target: "1" }
)");
  const auto reports = user.home() / "reports";
  auto r = user.faultline(fmt::format("run {} --report-dir {}", experiment.string(), reports.string()));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("process.yaml:") && Catch::Contains("not allowed to signal PID 1") &&
                           Catch::Contains("CAP_KILL"));
  CHECK_FALSE(fs::exists(reports));
}
