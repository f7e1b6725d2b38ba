#include "core/address.hpp"

#include <fmt/format.h>

#include <charconv>

namespace faultline {

std::string address::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

address parse_address(std::string_view text, address_rules rules) {
  auto s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  using reason = address_error::reason;
  const auto bad = [&](reason r, std::string_view why) {
    return address_error(r, fmt::format("'{}' is not an address: {}", text, why));
  };
  address out;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) throw bad(reason::missing_bracket, "missing ']' after the IPv6 address");
    out.host = std::string(s.substr(1, close - 1));
    auto rest = s.substr(close + 1);
    if (rest.empty() || rest.front() != ':') throw bad(reason::missing_port, "write it as [::1]:6379");
    port = rest.substr(1);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) throw bad(reason::missing_port, "it has no port; write host:port, e.g. 127.0.0.1:5432");
    if (s.find(':') != colon) throw bad(reason::unbracketed_ipv6, "put IPv6 addresses in brackets, e.g. [::1]:6379");
    out.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
  }
  if (out.host.empty() && !rules.empty_host) throw bad(reason::empty_host, "the host is empty; write e.g. 127.0.0.1:5432");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    throw bad(reason::bad_port, "the port must be a number from 0 to 65535");
  if (value == 0 && !rules.port_zero) throw bad(reason::port_zero, "port 0 means 'any free port', which only a listen address can use");
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

}  // namespace faultline
