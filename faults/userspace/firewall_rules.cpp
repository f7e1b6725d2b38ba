#include "faults/userspace/firewall_rules.hpp"

#include "faults/userspace/netns.hpp"
#include "faults/userspace/userspace_log.hpp"

#include <fmt/format.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <regex>
#include <set>

namespace faultline::faults::userspace {
namespace {

const char* family_text(int family) { return family == AF_INET6 ? "ipv6" : "ipv4"; }
const char* nft_family(int family) { return family == AF_INET6 ? "ip6" : "ip"; }

// Absolute path of iptables / ip6tables (tool "") or its -restore / -save companion.
std::string iptables_tool(int family, const std::string& suffix = {}) {
  return find_program(std::string(family == AF_INET6 ? "ip6tables" : "iptables") + suffix);
}

std::string protocol_name(std::uint8_t number) {
  switch (number) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1: return "icmp";
    case 58: return "ipv6-icmp";
    default: return std::to_string(number);
  }
}

// Comments reach iptables-restore inside double quotes: keep them to plain characters.
std::string safe_comment(const std::string& text) {
  std::string out;
  for (char c : text) out += (std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '_' || c == '.' || c == ':' || c == '/') ? c : '_';
  return out.substr(0, 200);
}

std::string restore_line(const std::string& verb, const std::string& chain, const std::vector<std::string>& args) {
  std::string line = verb + " " + chain;
  for (const auto& a : args) line += " " + (a.find(' ') != std::string::npos || a.empty() ? "\"" + a + "\"" : a);
  return line + "\n";
}

std::vector<std::string> queue_target(std::uint16_t queue) {
  return {"-j", "NFQUEUE", "--queue-num", std::to_string(queue), "--queue-bypass"};
}

std::vector<std::string> match_args(const network::match_rule& r) {
  std::vector<std::string> args;
  if (r.source) args.insert(args.end(), {"-s", r.source->text});
  if (r.destination) args.insert(args.end(), {"-d", r.destination->text});
  if (r.protocol) args.insert(args.end(), {"-p", protocol_name(*r.protocol)});
  if (r.source_port || r.destination_port) {
    args.insert(args.end(), {"-m", protocol_name(*r.protocol)});
    if (r.source_port) args.insert(args.end(), {"--sport", std::to_string(*r.source_port)});
    if (r.destination_port) args.insert(args.end(), {"--dport", std::to_string(*r.destination_port)});
  }
  return args;
}

bool nf_tables_backend() {
  static std::once_flag once;
  static bool nft = false;
  std::call_once(once, [] {
    auto tool = iptables_tool(AF_INET);
    if (tool.empty()) return;
    auto r = run_program(std::string(), {tool, "-V"});
    nft = r.out.find("nf_tables") != std::string::npos;
  });
  return nft;
}

std::string nft_tool() { return find_program("nft"); }

// `nft -j list table <family> mangle`: the names of its chains, base chains apart. nullopt: no table.
struct table_listing {
  std::vector<std::string> chains;
  std::vector<std::string> base_chains;
};
std::optional<table_listing> list_table(const std::string& netns, int family) {
  auto r = run_program(netns, {nft_tool(), "-j", "list", "table", nft_family(family), rules_table});
  if (!r.ok()) return std::nullopt;
  table_listing out;
  try {
    auto j = nlohmann::json::parse(r.out);
    for (const auto& item : j.at("nftables")) {
      if (!item.contains("chain")) continue;
      const auto& c = item["chain"];
      auto name = c.value("name", std::string());
      out.chains.push_back(name);
      if (c.contains("hook")) out.base_chains.push_back(name);
    }
  } catch (const nlohmann::json::exception& e) {
    userspace_log()->warn("cannot read `nft -j list table {} {}`: {}", nft_family(family), rules_table, e.what());
  }
  return out;
}

bool chain_exists(const firewall_plan& plan, int family) {
  auto tool = iptables_tool(family);
  if (tool.empty()) return false;
  return run_program(plan.netns, {tool, "-w", "-t", rules_table, "-S", plan.chain}).ok();
}

// Takes away the base chains and the table that iptables created for faultline's rules (nf_tables
// only; a chain that is not empty, or one that was there before, stays).
void remove_created_tables(const firewall_plan& plan, const family_rules& rules) {
  if (!nf_tables_backend() || nft_tool().empty()) return;
  const std::string family = nft_family(rules.family);
  for (const auto& hook : hook_chains) {
    if (std::find(rules.base_chains_before.begin(), rules.base_chains_before.end(), hook) != rules.base_chains_before.end()) continue;
    auto listing = list_table(plan.netns, rules.family);
    if (!listing || std::find(listing->chains.begin(), listing->chains.end(), hook) == listing->chains.end()) continue;
    auto r = run_program(plan.netns, {nft_tool(), "delete", "chain", family, rules_table, hook});
    if (!r.ok()) userspace_log()->info("left {} {} {} in place: {}", family, rules_table, hook, r.error_text());
  }
  if (rules.table_existed) return;
  auto listing = list_table(plan.netns, rules.family);
  if (!listing || !listing->chains.empty()) return;
  auto r = run_program(plan.netns, {nft_tool(), "delete", "table", family, rules_table});
  if (!r.ok()) userspace_log()->info("left the empty table {} {} in place: {}", family, rules_table, r.error_text());
}

// The one-command-at-a-time removal: each part only if it is still there.
std::vector<std::string> remove_piecewise(const firewall_plan& plan, const family_rules& rules) {
  std::vector<std::string> left;
  const auto tool = iptables_tool(rules.family);
  if (tool.empty()) return {fmt::format("{} is not installed, so faultline cannot remove chain {}", family_text(rules.family), plan.chain)};
  for (std::size_t i = 0; i < rules.jumps.size() && i < hook_chains.size(); ++i) {
    std::vector<std::string> check{tool, "-w", "-t", rules_table, "-C", hook_chains[i]};
    check.insert(check.end(), rules.jumps[i].begin(), rules.jumps[i].end());
    if (!run_program(plan.netns, check).ok()) continue;  // not there (or the chain it names is gone)
    auto remove = check;
    remove[4] = "-D";
    if (auto r = run_program(plan.netns, remove); !r.ok()) left.push_back(fmt::format("`{}`: {}", command_line(remove), r.error_text()));
  }
  if (chain_exists(plan, rules.family)) {
    for (const char* verb : {"-F", "-X"}) {
      std::vector<std::string> cmd{tool, "-w", "-t", rules_table, verb, plan.chain};
      if (auto r = run_program(plan.netns, cmd); !r.ok()) left.push_back(fmt::format("`{}`: {}", command_line(cmd), r.error_text()));
    }
  }
  return left;
}

}  // namespace

nlohmann::json firewall_plan::to_json() const {
  nlohmann::json fams = nlohmann::json::array();
  for (const auto& f : families)
    fams.push_back({{"family", family_text(f.family)},
                    {"queue_rules", f.queue_rules},
                    {"jumps", f.jumps},
                    {"table_existed", f.table_existed},
                    {"base_chains_before", f.base_chains_before}});
  return {{"netns", netns}, {"device", device}, {"chain", chain}, {"comment", comment}, {"queue", queue}, {"table", rules_table},
          {"families", fams}};
}

firewall_plan firewall_plan::from_json(const nlohmann::json& j) {
  try {
    firewall_plan p;
    p.netns = j.value("netns", std::string());
    p.device = j.at("device").get<std::string>();
    p.chain = j.at("chain").get<std::string>();
    p.comment = j.value("comment", std::string());
    p.queue = j.at("queue").get<std::uint16_t>();
    for (const auto& f : j.at("families")) {
      family_rules r;
      r.family = f.at("family").get<std::string>() == "ipv6" ? AF_INET6 : AF_INET;
      r.queue_rules = f.at("queue_rules").get<std::vector<std::vector<std::string>>>();
      r.jumps = f.at("jumps").get<std::vector<std::vector<std::string>>>();
      r.table_existed = f.value("table_existed", true);
      r.base_chains_before = f.value("base_chains_before", std::vector<std::string>{});
      p.families.push_back(std::move(r));
    }
    if (p.chain.rfind("FAULTLINE-", 0) != 0)
      throw fault_error(fmt::format("network: the userspace undo record names chain '{}', which is not faultline's", p.chain));
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw fault_error(fmt::format("network: the userspace engine's firewall record is malformed: {}", e.what()));
  }
}

firewall_plan plan_firewall(const network::network_spec& spec, const std::string& chain, const std::string& step,
                            std::uint16_t queue, std::optional<std::uint32_t> copy_mark, const std::vector<int>& families) {
  firewall_plan plan;
  plan.netns = spec.netns;
  plan.device = spec.device;
  plan.chain = chain;
  plan.comment = safe_comment("faultline step " + step);
  plan.queue = queue;
  const auto rules = network::expand_scope(spec.scope);
  for (int family : families) {
    family_rules f;
    f.family = family;
    if (copy_mark) f.queue_rules.push_back({"-m", "mark", "--mark", fmt::format("{:#x}", *copy_mark), "-j", "RETURN"});
    bool any = false;
    if (rules.empty()) {
      f.queue_rules.push_back(queue_target(queue));
      any = true;
    }
    for (const auto& r : rules) {
      if (r.family != family) continue;
      auto args = match_args(r);
      auto target = queue_target(queue);
      args.insert(args.end(), target.begin(), target.end());
      f.queue_rules.push_back(std::move(args));
      any = true;
    }
    if (!any) continue;  // the scope names no address of this family
    for (std::size_t i = 0; i < hook_chains.size(); ++i)
      f.jumps.push_back({"-i", spec.device, "-m", "comment", "--comment", plan.comment, "-j", chain});
    plan.families.push_back(std::move(f));
  }
  return plan;
}

std::string install_script(const firewall_plan& plan, const family_rules& rules) {
  std::string s = fmt::format("*{}\n:{} - [0:0]\n", rules_table, plan.chain);
  for (const auto& r : rules.queue_rules) s += restore_line("-A", plan.chain, r);
  for (std::size_t i = 0; i < rules.jumps.size() && i < hook_chains.size(); ++i) s += restore_line("-A", hook_chains[i], rules.jumps[i]);
  return s + "COMMIT\n";
}

std::string removal_script(const firewall_plan& plan, const family_rules& rules) {
  std::string s = fmt::format("*{}\n", rules_table);
  for (std::size_t i = 0; i < rules.jumps.size() && i < hook_chains.size(); ++i) s += restore_line("-D", hook_chains[i], rules.jumps[i]);
  s += fmt::format("-F {}\n-X {}\n", plan.chain, plan.chain);
  return s + "COMMIT\n";
}

std::string unique_chain_name() {
  static std::atomic<unsigned> counter{0};
  return fmt::format("FAULTLINE-{:x}-{:x}", static_cast<unsigned>(::getpid()), ++counter);
}

std::vector<std::uint16_t> candidate_queues(const std::string& netns, std::size_t count) {
  std::set<unsigned> named;
  static const std::regex queue_option(R"(--queue-(num|balance) (\d+)(:(\d+))?)");
  for (int family : {AF_INET, AF_INET6}) {
    auto tool = iptables_tool(family, "-save");
    if (tool.empty()) continue;
    auto saved = run_program(netns, {tool});
    for (std::sregex_iterator it(saved.out.begin(), saved.out.end(), queue_option), end; it != end; ++it) {
      unsigned first = static_cast<unsigned>(std::stoul((*it)[2]));
      unsigned last = (*it)[4].matched ? static_cast<unsigned>(std::stoul((*it)[4])) : first;
      for (unsigned q = first; q <= last && q <= 0xffff; ++q) named.insert(q);
    }
  }
  std::vector<std::uint16_t> out;
  for (unsigned q = 0xfa17; q <= 0xffff && out.size() < count; ++q)
    if (!named.count(q)) out.push_back(static_cast<std::uint16_t>(q));
  return out;
}

void note_tables_before(firewall_plan& plan) {
  if (!nf_tables_backend() || nft_tool().empty()) return;
  for (auto& f : plan.families) {
    auto listing = list_table(plan.netns, f.family);
    f.table_existed = listing.has_value();
    f.base_chains_before = listing ? listing->base_chains : std::vector<std::string>{};
  }
}

void install_firewall(const firewall_plan& plan) {
  for (std::size_t i = 0; i < plan.families.size(); ++i) {
    const auto& f = plan.families[i];
    const auto tool = iptables_tool(f.family, "-restore");
    std::string failure;
    if (tool.empty()) failure = fmt::format("{}-restore is not installed (apt install iptables)", f.family == AF_INET6 ? "ip6tables" : "iptables");
    else if (chain_exists(plan, f.family))
      failure = fmt::format("chain {} already exists in the {} table ({}); a killed run may have left it: run `faultline recover`",
                            plan.chain, rules_table, family_text(f.family));
    else if (auto r = run_program(plan.netns, {tool, "-w", "--noflush"}, install_script(plan, f)); !r.ok())
      failure = fmt::format("{} --noflush refused faultline's rules: {}", command_line({tool}), r.error_text());
    if (failure.empty()) continue;
    std::string undo;
    try {
      firewall_plan done = plan;
      done.families.resize(i + 1);
      remove_firewall(done);
    } catch (const std::exception& e) {
      undo = fmt::format("; and removing what was installed failed: {}", e.what());
    }
    throw fault_error(fmt::format("network: cannot install the userspace engine's rules{}: {}{}",
                                  plan.netns.empty() ? "" : " in netns " + plan.netns, failure, undo));
  }
  userspace_log()->info("installed chain {} (queue {}) for packets arriving through {}{}", plan.chain, plan.queue, plan.device,
                 plan.netns.empty() ? "" : " in netns " + plan.netns);
}

void remove_queue_rules(const firewall_plan& plan) {
  std::vector<std::string> left;
  for (const auto& f : plan.families) {
    const auto tool = iptables_tool(f.family, "-restore");
    bool removed = false;
    if (!tool.empty()) removed = run_program(plan.netns, {tool, "-w", "--noflush"}, removal_script(plan, f)).ok();
    if (!removed) {
      auto rest = remove_piecewise(plan, f);
      left.insert(left.end(), rest.begin(), rest.end());
    }
  }
  if (!left.empty()) {
    std::string lines;
    for (const auto& l : left) lines += "\n  " + l;
    throw fault_error(fmt::format("network: could not remove every rule of chain {}{}:{}", plan.chain,
                                  plan.netns.empty() ? "" : " in netns " + plan.netns, lines));
  }
  userspace_log()->info("removed chain {}{}", plan.chain, plan.netns.empty() ? "" : " in netns " + plan.netns);
}

void remove_created_tables(const firewall_plan& plan) {
  for (const auto& f : plan.families) remove_created_tables(plan, f);
}

void remove_firewall(const firewall_plan& plan) {
  std::optional<fault_error> failed;
  try {
    remove_queue_rules(plan);
  } catch (const fault_error& e) {
    failed = e;
  }
  remove_created_tables(plan);
  if (failed) throw *failed;
}

bool firewall_present(const firewall_plan& plan) {
  return std::any_of(plan.families.begin(), plan.families.end(), [&](const family_rules& f) { return chain_exists(plan, f.family); });
}

std::string firewall_unavailable_reason() {
  static std::once_flag once;
  static std::string reason;
  std::call_once(once, [] {
    for (const char* tool : {"iptables", "iptables-restore"}) {
      if (find_program(tool).empty()) {
        reason = fmt::format("network: engine: userspace needs {} (Debian/Ubuntu: apt install iptables; Fedora/RHEL: dnf install "
                             "iptables-nft)", tool);
        return;
      }
    }
    try {
      // Can this kernel take an NFQUEUE rule? Asked in a scratch namespace that vanishes after.
      auto scratch = netns_handle::scratch();
      auto r = run_program(scratch, {iptables_tool(AF_INET), "-w", "-t", rules_table, "-A", "INPUT", "-j", "NFQUEUE", "--queue-num",
                                     "1", "--queue-bypass"});
      if (!r.ok())
        reason = fmt::format("network: this kernel does not take iptables NFQUEUE rules ({}); engine: userspace needs "
                             "CONFIG_NETFILTER_XT_TARGET_NFQUEUE and CONFIG_NETFILTER_NETLINK_QUEUE (and CONFIG_NFT_COMPAT with "
                             "iptables-nft)",
                             r.error_text());
    } catch (const std::exception& e) {
      reason = e.what();
    }
  });
  return reason;
}

}  // namespace faultline::faults::userspace
