#pragma once
// One address type and one parser for every "host:port" faultline reads: listen and upstream
// addresses, probe, storm and fault targets, the control API. IPv4, bracketed IPv6, host names.

#include "core/units.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace faultline {

struct address {
  std::string host;  // without brackets; a name, an IPv4 or an IPv6 address
  std::uint16_t port = 0;

  // "127.0.0.1:5432", "[::1]:6379": parses back to the same address.
  std::string to_string() const;
  bool operator==(const address&) const = default;
};

// What an address may leave out. Port 0 ("pick a free port") and an empty host (":8474", as Go
// writes "every interface") only make sense where faultline listens; everywhere else they are
// mistakes.
struct address_rules {
  bool port_zero = false;
  bool empty_host = false;
};
inline constexpr address_rules connect_address{};
inline constexpr address_rules listen_address{true, true};

// Why an address did not parse, for callers that word the error their own way (the Toxiproxy
// API keeps Go's messages). what() is faultline's own wording, with the fix.
class address_error : public unit_error {
public:
  enum class reason { missing_port, missing_bracket, unbracketed_ipv6, empty_host, bad_port, port_zero };
  address_error(reason r, const std::string& message) : unit_error(message), reason_(r) {}
  reason why() const noexcept { return reason_; }

private:
  reason reason_;
};

// "host:port" or "[v6]:port". Unbracketed IPv6 ("::1:80") is refused: its port is ambiguous.
address parse_address(std::string_view text, address_rules rules = connect_address);

}  // namespace faultline
