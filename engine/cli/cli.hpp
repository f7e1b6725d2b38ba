#pragma once
// The `faultline` command line: one file per command, each adding itself to the CLI11 app.

#include "engine/loader.hpp"
#include "faults/fault.hpp"
#include "probes/probe.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <string_view>

namespace faultline::cli {

// Exit codes, as the design fixes them.
enum exit_code : int {
  exit_ok = 0,
  exit_expectation_missed = 1,
  exit_invalid = 2,
  exit_aborted = 3,
  exit_internal = 4,
};

// What each exit code means, for the manual page.
struct exit_code_meaning {
  exit_code code;
  const char* meaning;
};
inline constexpr exit_code_meaning exit_code_meanings[] = {
    {exit_ok, "every expectation was met (for run: every experiment passed)"},
    {exit_expectation_missed, "an expectation was missed, or a comparison found a regression"},
    {exit_invalid, "invalid input or environment (a bad experiment, a missing privilege or dependency); nothing was "
                   "changed"},
    {exit_aborted, "aborted: an abort condition held, or SIGINT or SIGTERM arrived; faults were reverted"},
    {exit_internal, "internal error"},
};

// What every command may use; the chosen command sets `exit`.
struct context {
  faults::fault_registry faults;
  probes::probe_registry probes;
  int exit = exit_ok;
  engine::catalogue catalogue() const { return {faults, probes}; }
};

// `commit`: the git commit the executable was built from, for --version.
int main(int argc, char** argv, std::string_view commit);

// Parses `--var name=value` options into variables (throws config_error on a malformed one).
engine::variables parse_vars(const std::vector<std::string>& vars);

// Where to listen for "host:port" (--api, --metrics): numeric addresses and names (localhost,
// resolved, IPv4 preferred). Throws std::invalid_argument saying what is wrong.
boost::asio::ip::tcp::endpoint listen_endpoint(const std::string& text);

void add_validate_command(CLI::App& app, context& ctx);
void add_run_command(CLI::App& app, context& ctx);
void add_list_command(CLI::App& app, context& ctx);
void add_load_command(CLI::App& app, context& ctx);
void add_proxy_command(CLI::App& app, context& ctx);
void add_recover_command(CLI::App& app, context& ctx);
void add_report_command(CLI::App& app, context& ctx);
void add_diff_command(CLI::App& app, context& ctx);
void add_storm_command(CLI::App& app, context& ctx);
void add_capacity_command(CLI::App& app, context& ctx);

}  // namespace faultline::cli
