#include "faults/netem/network_spec.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace faultline::faults::network {
namespace {

using std::chrono::nanoseconds;

std::optional<double> fraction(const params& p, const std::string& name) { return p.maybe<double>(name); }

// Each chance may carry a correlation, which alone means nothing.
std::optional<chance> read_chance(const params& p, const std::string& name) {
  auto value = fraction(p, name);
  auto corr = fraction(p, name + "_correlation");
  if (corr && !value)
    throw param_error(name + "_correlation", fmt::format("'{0}_correlation' needs '{0}' (e.g. {0}: 10%)", name));
  if (!value) return std::nullopt;
  return chance{*value, corr.value_or(0.0)};
}

std::uint16_t parse_port(const std::string& text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535)
    throw param_error("ports", fmt::format("'{}' is not a port number (1-65535); ranges are not supported, list each port", text));
  return static_cast<std::uint16_t>(value);
}

bool valid_device_name(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\0';
  });
}

traffic_scope read_scope(const params& p) {
  traffic_scope s;
  if (auto hosts = p.maybe<std::vector<std::string>>("hosts")) {
    for (const auto& h : *hosts) {
      try {
        s.hosts.push_back(parse_ip_prefix(h));
      } catch (const std::invalid_argument& e) {
        throw param_error("hosts", e.what());
      }
    }
  }
  if (auto ports = p.maybe<std::vector<std::string>>("ports"))
    for (const auto& port : *ports) s.ports.push_back(parse_port(port));
  auto protocol = p.maybe<std::string>("protocol").value_or("all");
  if (protocol == "tcp") s.protocol = ip_protocol::tcp;
  else if (protocol == "udp") s.protocol = ip_protocol::udp;
  else if (protocol == "icmp") s.protocol = ip_protocol::icmp;
  if (!s.ports.empty() && s.protocol == ip_protocol::icmp)
    throw param_error("ports", "ICMP has no ports; remove 'ports' or use protocol: tcp, udp or all");
  if (auto n = expand_scope(s).size(); n > max_scope_rules)
    throw param_error("hosts", fmt::format("hosts x ports expand to {} match rules, more than {}; use CIDRs instead of single "
                                           "addresses, or fewer ports", n, max_scope_rules));
  return s;
}

}  // namespace

std::vector<match_rule> expand_scope(const traffic_scope& scope) {
  std::vector<match_rule> out;
  if (scope.all_traffic()) return out;
  std::vector<match_rule> by_host;
  if (scope.hosts.empty()) {
    by_host.push_back({AF_INET});
    by_host.push_back({AF_INET6});
  }
  for (const auto& h : scope.hosts) {
    match_rule src{h.family}, dst{h.family};
    src.source = h;
    dst.destination = h;
    by_host.push_back(src);
    by_host.push_back(dst);
  }
  auto protocol_numbers = [&](int family) -> std::vector<std::optional<std::uint8_t>> {
    switch (scope.protocol) {
      case ip_protocol::tcp: return {std::uint8_t{6}};
      case ip_protocol::udp: return {std::uint8_t{17}};
      case ip_protocol::icmp: return {std::uint8_t(family == AF_INET ? 1 : 58)};
      case ip_protocol::all: break;
    }
    if (!scope.ports.empty()) return {std::uint8_t{6}, std::uint8_t{17}};  // ports exist in TCP and UDP
    return {std::nullopt};
  };
  for (const auto& base : by_host) {
    for (auto proto : protocol_numbers(base.family)) {
      if (scope.ports.empty()) {
        auto r = base;
        r.protocol = proto;
        out.push_back(r);
        continue;
      }
      for (auto port : scope.ports) {
        auto src = base, dst = base;
        src.protocol = dst.protocol = proto;
        src.source_port = port;
        dst.destination_port = port;
        out.push_back(src);
        out.push_back(dst);
      }
    }
  }
  return out;
}

const char* to_string(delay_distribution d) {
  switch (d) {
    case delay_distribution::uniform: return "uniform";
    case delay_distribution::normal: return "normal";
    case delay_distribution::pareto: return "pareto";
    case delay_distribution::paretonormal: return "paretonormal";
  }
  return "uniform";
}

const char* to_string(ip_protocol p) {
  switch (p) {
    case ip_protocol::all: return "all";
    case ip_protocol::tcp: return "tcp";
    case ip_protocol::udp: return "udp";
    case ip_protocol::icmp: return "icmp";
  }
  return "all";
}

const char* to_string(engine_choice e) {
  switch (e) {
    case engine_choice::netem: return "netem";
    case engine_choice::userspace: return "userspace";
    case engine_choice::auto_select: return "auto";
  }
  return "netem";
}

bool ip_prefix::contains(const ip_prefix& other) const {
  if (family != other.family || other.length < length) return false;
  for (int bit = 0; bit < length; ++bit) {
    auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if ((bytes[bit / 8] & mask) != (other.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

ip_prefix parse_ip_prefix(std::string_view text) {
  ip_prefix out;
  auto slash = text.find('/');
  std::string address(text.substr(0, slash));
  if (inet_pton(AF_INET, address.c_str(), out.bytes.data()) == 1) out.family = AF_INET;
  else if (inet_pton(AF_INET6, address.c_str(), out.bytes.data()) == 1) out.family = AF_INET6;
  else
    throw std::invalid_argument(fmt::format("'{}' is not an IPv4 or IPv6 address or CIDR (e.g. 10.200.1.2, 10.200.0.0/16, "
                                            "fd00::/64); host names are not resolved", text));
  const int max = out.family == AF_INET ? 32 : 128;
  out.length = max;
  if (slash != std::string_view::npos) {
    auto bits = text.substr(slash + 1);
    int value = -1;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
    if (ec != std::errc{} || end != bits.data() + bits.size() || value < 0 || value > max)
      throw std::invalid_argument(fmt::format("'{}' has a bad prefix length (0-{})", text, max));
    out.length = value;
  }
  for (int bit = out.length; bit < max; ++bit) {
    if (out.bytes[bit / 8] & (0x80u >> (bit % 8))) {
      ip_prefix network = out;
      for (int b = out.length; b < max; ++b) network.bytes[b / 8] &= static_cast<std::uint8_t>(~(0x80u >> (b % 8)));
      char buf[INET6_ADDRSTRLEN] = {};
      inet_ntop(out.family, network.bytes.data(), buf, sizeof buf);
      throw std::invalid_argument(fmt::format("'{}' has host bits set; did you mean {}/{}?", text, buf, out.length));
    }
  }
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(out.family, out.bytes.data(), buf, sizeof buf);
  out.text = out.length == max ? std::string(buf) : fmt::format("{}/{}", buf, out.length);
  return out;
}

param_schema network_params() {
  const nanoseconds zero{0};
  const std::vector<std::string> distributions{"uniform", "normal", "pareto", "paretonormal"};
  return {
      {"netns", param_kind::text, "named network namespace holding the device (as `ip netns` names it)", {}, false},
      {"delay", param_kind::duration, "added delay of each packet", zero, false, 0.0},
      {"jitter", param_kind::duration, "variation of the delay (+/-)", zero, false, 0.0},
      {"correlation", param_kind::fraction, "how much each delay depends on the previous one", {}, false, 0.0, 1.0},
      {"distribution", param_kind::choice, "shape of the jitter: uniform, normal, pareto or paretonormal", {}, false, {}, {},
       distributions},
      {"loss", param_kind::fraction, "chance of dropping each packet", {}, false, 0.0, 1.0},
      {"loss_correlation", param_kind::fraction, "how much each loss decision depends on the previous one", {}, false, 0.0, 1.0},
      {"gilbert_elliott.p", param_kind::fraction, "bursty loss: chance of moving from the good to the bad state", {}, false, 0.0, 1.0},
      {"gilbert_elliott.r", param_kind::fraction, "bursty loss: chance of moving from the bad to the good state (default 1-p)", {},
       false, 0.0, 1.0},
      {"gilbert_elliott.loss_bad", param_kind::fraction, "bursty loss: loss chance in the bad state (default 100%)", {}, false, 0.0,
       1.0},
      {"gilbert_elliott.loss_good", param_kind::fraction, "bursty loss: loss chance in the good state (default 0%)", {}, false, 0.0,
       1.0},
      {"duplicate", param_kind::fraction, "chance of sending a packet twice", {}, false, 0.0, 1.0},
      {"duplicate_correlation", param_kind::fraction, "how much each duplication depends on the previous one", {}, false, 0.0, 1.0},
      {"corrupt", param_kind::fraction, "chance of flipping a random bit in a packet", {}, false, 0.0, 1.0},
      {"corrupt_correlation", param_kind::fraction, "how much each corruption depends on the previous one", {}, false, 0.0, 1.0},
      {"reorder", param_kind::fraction, "chance of sending a packet at once, ahead of the delayed ones (needs delay)", {}, false, 0.0,
       1.0},
      {"reorder_correlation", param_kind::fraction, "how much each reordering depends on the previous one", {}, false, 0.0, 1.0},
      {"gap", param_kind::integer, "reorder every gap-th packet (needs reorder)", {}, false, 1.0, 4294967295.0},
      {"rate", param_kind::bandwidth, "bandwidth limit of the affected traffic", {}, false, 1.0},
      {"limit", param_kind::integer, "packets the emulator may hold before dropping", std::int64_t(1000), false, 1.0, 4294967295.0},
      {"keep_order", param_kind::flag, "jittered packets keep their order instead of overtaking each other (engine: userspace)",
       false, false},
      {"hosts", param_kind::text_list, "only traffic to or from these addresses or CIDRs", {}, false},
      {"ports", param_kind::text_list, "only traffic to or from these TCP/UDP ports", {}, false},
      {"protocol", param_kind::choice, "only this IP protocol: all, tcp, udp or icmp", std::string("all"), false, {}, {},
       {"all", "tcp", "udp", "icmp"}},
      {"engine", param_kind::choice, "netem (kernel), userspace (NFQUEUE) or auto (netem when the kernel has it)",
       std::string("netem"), false, {}, {}, {"netem", "userspace", "auto"}},
      {"allow_default_route", param_kind::flag, "allow the device that carries the default route", false, false},
  };
}

void validate_network_params(const params& p) { (void)parse_network_spec(p, "validate"); }

network_spec parse_network_spec(const params& p, const std::string& device) {
  network_spec s;
  if (!valid_device_name(device))
    throw param_error("target", fmt::format("'{}' is not a network device name (1-15 characters, no '/', ':' or spaces)", device));
  s.device = device;
  if (auto ns = p.maybe<std::string>("netns")) {
    if (ns->empty() || ns->find('/') != std::string::npos || *ns == "." || *ns == "..")
      throw param_error("netns", fmt::format("'{}' is not a namespace name (as `ip netns list` shows it, no '/')", *ns));
    s.netns = *ns;
  }

  s.delay = p.maybe<nanoseconds>("delay").value_or(nanoseconds{0});
  s.jitter = p.maybe<nanoseconds>("jitter").value_or(nanoseconds{0});
  if (s.jitter.count() > 0 && s.delay.count() == 0)
    throw param_error("jitter", "jitter varies the delay; set 'delay' too (e.g. delay: 50ms, jitter: 10ms)");
  if (auto c = fraction(p, "correlation")) {
    if (s.jitter.count() == 0) throw param_error("correlation", "'correlation' correlates the jitter; set 'jitter' too");
    s.delay_correlation = *c;
  }
  if (auto d = p.maybe<std::string>("distribution")) {
    if (s.jitter.count() == 0) throw param_error("distribution", "'distribution' shapes the jitter; set 'jitter' too");
    if (*d == "normal") s.distribution = delay_distribution::normal;
    else if (*d == "pareto") s.distribution = delay_distribution::pareto;
    else if (*d == "paretonormal") s.distribution = delay_distribution::paretonormal;
  }

  s.loss = read_chance(p, "loss");
  auto ge_p = fraction(p, "gilbert_elliott.p");
  for (const char* key : {"gilbert_elliott.r", "gilbert_elliott.loss_bad", "gilbert_elliott.loss_good"})
    if (!ge_p && p.has(key)) throw param_error(key, fmt::format("'{}' needs 'gilbert_elliott.p' (the chance of entering the bad state)", key));
  if (ge_p) {
    if (s.loss) throw param_error("gilbert_elliott.p", "use either 'loss' (random) or 'gilbert_elliott' (bursty), not both");
    gilbert_elliott ge;
    ge.p = *ge_p;
    ge.r = fraction(p, "gilbert_elliott.r").value_or(1.0 - ge.p);
    ge.loss_bad = fraction(p, "gilbert_elliott.loss_bad").value_or(1.0);
    ge.loss_good = fraction(p, "gilbert_elliott.loss_good").value_or(0.0);
    s.loss_model = ge;
  }
  s.duplicate = read_chance(p, "duplicate");
  s.corrupt = read_chance(p, "corrupt");
  s.reorder = read_chance(p, "reorder");
  if (s.reorder && s.delay.count() == 0)
    throw param_error("reorder", "reordering sends some packets at once while the rest wait; set 'delay' too (e.g. delay: 10ms)");
  if (auto gap = p.maybe<std::int64_t>("gap")) {
    if (!s.reorder) throw param_error("gap", "'gap' spaces reordered packets; set 'reorder' too (e.g. reorder: 25%)");
    s.gap = static_cast<std::uint32_t>(*gap);
  }
  if (auto r = p.maybe<double>("rate")) s.rate = *r;
  s.limit = static_cast<std::uint32_t>(p.maybe<std::int64_t>("limit").value_or(1000));

  s.scope = read_scope(p);
  auto engine = p.maybe<std::string>("engine").value_or("netem");
  if (engine == "userspace") s.engine = engine_choice::userspace;
  else if (engine == "auto") s.engine = engine_choice::auto_select;
  s.allow_default_route = p.maybe<bool>("allow_default_route").value_or(false);
  s.keep_order = p.maybe<bool>("keep_order").value_or(false);
  if (s.keep_order && s.engine != engine_choice::userspace)
    throw param_error("keep_order", "netem lets jittered packets overtake each other; 'keep_order' needs engine: userspace");

  if (s.delay.count() == 0 && !s.loss && !s.loss_model && !s.duplicate && !s.corrupt && !s.rate)
    throw param_error("delay", "this network fault changes nothing; set at least one of delay, loss, gilbert_elliott, duplicate, "
                               "corrupt or rate");
  return s;
}

std::string network_spec::describe() const {
  using std::chrono::duration;
  auto ms = [](nanoseconds d) { return fmt::format("{:g}ms", duration<double, std::milli>(d).count()); };
  auto pct = [](double v) { return fmt::format("{:g}%", v * 100); };
  std::vector<std::string> parts;
  if (delay.count()) {
    auto d = "delay " + ms(delay);
    if (jitter.count()) d += fmt::format(" +/- {} {}", ms(jitter), to_string(distribution));
    parts.push_back(d);
  }
  if (loss) parts.push_back("loss " + pct(loss->value));
  if (loss_model) parts.push_back(fmt::format("bursty loss (p {}, r {})", pct(loss_model->p), pct(loss_model->r)));
  if (duplicate) parts.push_back("duplicate " + pct(duplicate->value));
  if (corrupt) parts.push_back("corrupt " + pct(corrupt->value));
  if (reorder) parts.push_back("reorder " + pct(reorder->value));
  if (rate) parts.push_back(fmt::format("rate {:g} kbit/s", *rate * 8 / 1000));
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
  std::string scope_text;
  for (const auto& h : scope.hosts) scope_text += (scope_text.empty() ? " to/from " : ", ") + h.text;
  if (!scope.ports.empty()) {
    scope_text += " port";
    for (auto port : scope.ports) scope_text += fmt::format(" {}", port);
  }
  if (scope.protocol != ip_protocol::all) scope_text += fmt::format(" ({})", to_string(scope.protocol));
  return out + scope_text + " on " + device + (netns.empty() ? "" : " in netns " + netns);
}

}  // namespace faultline::faults::network
