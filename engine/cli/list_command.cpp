#include "core/params.hpp"
#include "engine/capacity.hpp"
#include "engine/cli/cli.hpp"
#include "probes/load_request.hpp"
#include "probes/load_values.hpp"

#include <fmt/format.h>

#include <iostream>

namespace faultline::cli {
namespace {

void print_params(const param_schema& schema) {
  for (const auto& p : schema) {
    std::string detail = to_string(p.kind);
    if (p.kind == param_kind::choice) {
      detail = "";
      for (const auto& c : p.choices) detail += (detail.empty() ? "" : "|") + c;
    }
    std::string def = p.required ? "required" : p.default_value ? "default " + format_param(p.kind, *p.default_value) : "optional";
    std::cout << fmt::format("      {:<16} {:<22} {:<18} {}\n", p.name, detail, def, p.help);
  }
}

}  // namespace

// `faultline list`: every fault, action and probe type with its parameters and defaults.
void add_list_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("list", "List fault, action and probe types, and the load's keys, with their parameters");
  cmd->callback([&ctx] {
    for (bool actions : {false, true}) {
      std::cout << (actions ? "actions (timeline steps: action: <type>)\n" : "faults (timeline steps: fault: <type>)\n");
      for (const auto& [name, type] : ctx.faults.types()) {
        if (type.action != actions) continue;
        std::string target = type.target == faults::target_kind::none ? "" : fmt::format(" [target: {}{}]",
            faults::to_string(type.target), type.protocol.empty() ? "" : " with protocol " + type.protocol);
        std::cout << fmt::format("  {:<18} {}{}{}{}\n", name, type.summary, target, type.destructive ? " (destructive)" : "",
                                 type.capability.empty() ? "" : " (needs " + type.capability + ": root)");
        print_params(type.params);
      }
    }
    std::cout << "probes (probes: { <name>: { <type>: {...} } }; all take every and timeout)\n";
    for (const auto& [name, type] : ctx.probes.types()) {
      std::cout << fmt::format("  {:<18} {}\n", name, type.summary);
      print_params(type.params);
    }
    std::cout << "load (load: { http: {...} })\n";
    print_params(probes::http_load_params());
    std::cout << "  also: requests (a weighted mix) or journey (each user's steps), and values (${name} in requests)\n";
    std::cout << "load request (load: { http: { requests: [ {...} ] } } and journey steps)\n";
    print_params(probes::load_request_params());
    std::cout << fmt::format("      {:<16} {:<22} {:<18} {}\n", "capture", "map", "optional",
                             "journey: name: { json: /pointer } or { header: Name }, ${name} in later steps");
    std::cout << "load value (load: { http: { values: { <name>: {...} } } }; one of range, list, csv, sequence)\n";
    print_params(probes::load_value_params());
    std::cout << "load levels (load: { levels: [ {...} ] }; run in order, each judged by its own rules)\n";
    std::cout << fmt::format("      {:<16} {:<22} {:<18} {}\n", "name", "text", "optional", "the level's name (default: 100-users, 200/s)");
    std::cout << fmt::format("      {:<16} {:<22} {:<18} {}\n", "users", "integer", "users or rate", "closed model: virtual users");
    std::cout << fmt::format("      {:<16} {:<22} {:<18} {}\n", "rate", "rate", "users or rate", "open model: arrivals per second");
    std::cout << fmt::format("      {:<16} {:<22} {:<18} {}\n", "for", "duration", "required", "how long the level holds");
    std::cout << fmt::format("      {:<16} {:<22} {:<18} {}\n", "require", "list", "optional", "rules judged over the whole level");
    std::cout << "capacity search (load: { capacity: {...} }; faultline capacity and expect.capacity)\n";
    print_params(engine::capacity_search_params());
    ctx.exit = exit_ok;
  });
}

}  // namespace faultline::cli
