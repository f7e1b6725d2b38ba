// The daemon driven by a published Toxiproxy client: toxiproxy-node-client from the npm registry,
// installed into a temporary directory. Skipped, with a warning, only when npm cannot reach the
// registry; any other failure fails the test.
#include "tests/faults/proxy/daemon.hpp"
#include "tests/faults/proxy/loopback.hpp"
#include "tests/support/skip.hpp"

#include <catch2/catch.hpp>

using namespace faultline::test;

namespace {

bool on_path(const char* program) { return std::system((std::string("command -v ") + program + " >/dev/null 2>&1").c_str()) == 0; }

bool unreachable(const std::string& npm_log) {
  for (auto marker : {"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "ENETUNREACH", "network request"})
    if (npm_log.find(marker) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("toxiproxy-node-client from npm drives the daemon", "[faults][proxy]") {
  if (!on_path("node") || !on_path("npm")) {
    skip("node or npm is not installed; the toxiproxy-node-client check needs them");
  }
  auto dir = std::filesystem::temp_directory_path() / ("faultline-npm-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct cleanup {
    std::filesystem::path p;
    ~cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(p, ignored);
    }
  } remove_dir{dir};

  auto npm = spawn({"/bin/sh", "-c", "npm install --no-audit --no-fund --no-save --prefix \"$0\" toxiproxy-node-client@4", dir.string()},
                   dir / "npm.log");
  auto code = wait_for(npm, std::chrono::seconds(240));
  if (code == -1) {
    ::kill(npm, SIGKILL);
    wait_for(npm, std::chrono::seconds(5));
  }
  auto npm_log = slurp(dir / "npm.log");
  if (code != 0 && (code == -1 || unreachable(npm_log))) {
    skip("npm could not reach the registry; the toxiproxy-node-client check needs it:\n" + npm_log);
  }
  REQUIRE(code == 0);

  loopback_server echo(loopback_server::mode::echo);
  daemon_process d;
  auto node = spawn({"/bin/sh", "-c", "exec node \"$0\" \"$1\" \"$2\"", NODE_CLIENT_SCRIPT, d.api, echo.address()}, dir / "node.log",
                    {"NODE_PATH=" + (dir / "node_modules").string()});
  auto result = wait_for(node, std::chrono::seconds(60));
  if (result == -1) ::kill(node, SIGKILL);
  INFO(slurp(dir / "node.log"));
  INFO(slurp(d.log()));
  CHECK(result == 0);
  CHECK(slurp(dir / "node.log").find("all checks passed") != std::string::npos);
}
