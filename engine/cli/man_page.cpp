#include "engine/cli/man_page.hpp"

#include <fmt/format.h>

#include <sstream>

namespace faultline::cli {
namespace {

// Text for roff: backslashes and minus signs escaped, a line never starting a request.
std::string roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
    line_start = c == '\n';
  }
  return out;
}

bool visible(const CLI::App* command) { return !command->get_group().empty(); }

std::vector<const CLI::Option*> options_of(const CLI::App& command, bool positional) {
  return command.get_options([positional](const CLI::Option* o) {
    return !o->get_group().empty() && (positional ? !o->nonpositional() : o->nonpositional());
  });
}

bool takes_value(const CLI::Option* o) { return o->get_items_expected_max() > 0; }  // flags expect 0
bool repeats(const CLI::Option* o) { return o->get_expected_max() > 1; }

// "faultline run [OPTIONS] inputs..."
std::string usage(const CLI::App& command) {
  std::string out = "faultline " + command.get_name() + " [OPTIONS]";
  for (const auto* p : options_of(command, true)) {
    auto name = p->get_name(true);
    out += " " + (p->get_required() ? name : "[" + name + "]") + (repeats(p) ? "..." : "");
  }
  return out;
}

void option_item(std::ostringstream& out, const CLI::Option* o, bool positional) {
  std::string names = positional ? o->get_name(true) : o->get_name(false, true);
  std::string value;
  if (!positional && takes_value(o)) value = " " + o->get_type_name() + (repeats(o) ? " ..." : "");
  else if (positional && repeats(o)) value = " ...";
  std::string names_roff;
  for (char c : names) names_roff += c == ',' ? std::string(", ") : roff(std::string(1, c));
  out << ".TP\n\\fB" << names_roff << "\\fR" << (value.empty() ? "" : "\\fI" + roff(value) + "\\fR") << "\n";
  out << roff(o->get_description()) << (o->get_required() ? " (required)" : "") << "\n";
}

void commands_section(std::ostringstream& out, const CLI::App& app) {
  out << ".SH COMMANDS\n";
  for (const auto* command : app.get_subcommands([](const CLI::App* c) { return visible(c); })) {
    out << ".SS \"" << roff(usage(*command)) << "\"\n" << roff(command->get_description()) << "\n";
    for (const auto* p : options_of(*command, true)) option_item(out, p, true);
    for (const auto* o : options_of(*command, false))
      if (o->get_name(false, true) != "-h,--help") option_item(out, o, false);
  }
}

void fault_types_section(std::ostringstream& out, const context& ctx) {
  out << ".SH FAULT TYPES\n"
         "A timeline step names one of these with \\fBfault:\\fR (or \\fBaction:\\fR). "
         "\\fBfaultline list\\fR prints each with its parameters, units and defaults.\n";
  for (const auto& [name, type] : ctx.faults.types()) {
    out << ".TP\n\\fB" << roff(name) << "\\fR (" << roff(type.family) << (type.action ? " action" : "") << ")\n"
        << roff(type.summary);
    if (!type.capability.empty()) out << "; needs " << roff(type.capability) << " (root)";
    if (type.destructive) out << "; destroys data, so the step must say \\fBdestructive: true\\fR";
    out << "\n";
  }
  out << ".PP\nProbe types (\\fBprobes: { NAME: { TYPE: {...} } }\\fR): ";
  std::string names;
  for (const auto& [name, type] : ctx.probes.types()) names += (names.empty() ? "" : ", ") + name;
  out << roff(names) << ".\n";
}

// The experiment format in brief; docs/experiment-format.md is the reference.
constexpr std::string_view experiment_format = R"(.SH EXPERIMENT FORMAT
An experiment is one YAML file; a suite is a YAML file listing experiments, or a directory of them.
Units are written as people write them: 500ms, 2s, 200/s, 1%, 10MB/s.
${VAR} (or ${VAR:-default}) takes a value from \fB\-\-var\fR or the environment.
Unknown keys are errors that name the file, line and column.
.PP
.nf
version: 1
name: db\-slowness
proxies:          # TCP proxies faultline starts for the run
  postgres: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432, protocol: postgres }
load:             # traffic for the whole run (open model)
  http: { url: http://127.0.0.1:8080/orders/42, rate: 200/s, timeout: 2s }
probes:
  health: { http: { url: http://127.0.0.1:8080/health, every: 500ms } }
steady_state:     # checked before the faults and after recovery
  for: 5s
  require: [ "load.error_rate < 1%", "load.p95 < 200ms", "health.ok" ]
timeline:
  baseline: 10s
  steps:
    \- { at: 0s, for: 30s, fault: latency, target: postgres, latency: 800ms }
  recovery: { timeout: 60s, stable_for: 3s }
abort_when: [ "load.error_rate > 50% for 10s" ]
expect:           # what the verdict is judged on
  during_fault: [ "load.error_rate < 5%" ]
  mttr: { below: 10s }
  score: { at_least: 80 }
.fi
.PP
The full reference is experiment\-format.md in faultline's documentation
(/usr/share/doc/faultline in the Debian package); examples are in its examples directory.
)";

constexpr std::string_view privileges = R"(.SH PRIVILEGES
Proxies and their faults, protocol faults (PostgreSQL, Redis), connection storms, load, probes,
reports and the proxy daemon run as an ordinary user.
Network faults (\fBfault: network\fR, netem or the userspace engine) need CAP_NET_ADMIN, in
practice root; signalling another user's process (process faults) needs CAP_KILL.
A run checks this before it starts anything and exits 2, having changed nothing.
)";

constexpr std::string_view environment_and_files = R"(.SH ENVIRONMENT
.TP
.B FAULTLINE_STATE_FILE
the state file, where a run records how to undo each fault before it injects it
.TP
.B XDG_STATE_HOME
where an ordinary user's state file goes (see FILES)
.TP
.B FAULTLINE_PROXY_TOKEN
bearer token for \fBfaultline proxy\fR's control API, when \fB\-\-token\fR is not given
.SH FILES
.TP
.I /var/lib/faultline/state.json
the state file when faultline runs as root
.TP
.I $XDG_STATE_HOME/faultline/state.json
the state file otherwise (~/.local/state/faultline/state.json when XDG_STATE_HOME is unset);
\fBfaultline recover\fR undoes what a killed run left in it
)";

}  // namespace

std::string render_man_page(const CLI::App& app, const context& ctx, std::string_view version) {
  std::ostringstream out;
  out << ".\\\" Generated by `faultline --generate man` from the program itself; do not edit.\n"
      << ".TH FAULTLINE 1 \"\" \"faultline " << roff(version) << "\" \"User Commands\"\n"
      << ".SH NAME\nfaultline \\- chaos and resilience testing: inject faults, measure degradation and recovery, "
         "score the result\n"
      << ".SH SYNOPSIS\n.B faultline\n.I command\n.RI [ options ]\n.br\n.B faultline \\-\\-version\n"
      << ".SH DESCRIPTION\n" << roff(app.get_description()) << "\n"
      << ".PP\nAn SRE writes an experiment in YAML; \\fBfaultline run\\fR starts load and health probes, injects "
         "faults on a timeline (through its own TCP proxies and through Linux traffic control), watches how the "
         "system degrades, whether its circuit breakers open and close and how long it takes to recover, and scores "
         "the result against the experiment's targets. It ends with a verdict (the exit code), a JSON journal and "
         "HTML, Markdown and JUnit reports.\n";
  commands_section(out, app);
  fault_types_section(out, ctx);
  out << experiment_format << privileges;
  out << ".SH EXIT STATUS\n";
  for (const auto& e : exit_code_meanings) out << ".TP\n.B " << static_cast<int>(e.code) << "\n" << roff(e.meaning) << "\n";
  out << environment_and_files
      << ".SH SEE ALSO\nThe documentation installed with faultline: README.md, experiment-format.md, faults.md, "
         "proxy.md, reports.md and install.md.\n";
  return out.str();
}

}  // namespace faultline::cli
