#pragma once
// ALPN through a terminating proxy: the protocols a client offers, read from its ClientHello
// before the handshake starts (so that a TLS upstream can be offered the same and its choice
// presented back), and the length-prefixed list form ALPN uses on the wire (RFC 7301).

#include <span>
#include <string>
#include <vector>

namespace faultline::proxy {

struct client_hello_alpn {
  enum class status {
    need_more,  // the first TLS record is not complete yet
    read,       // a ClientHello in the first record: `protocols` is its ALPN offer (maybe none)
    unreadable  // not a TLS ClientHello that fits one record: treated as no offer
  };
  status state = status::need_more;
  std::vector<std::string> protocols;
};

// Reads the ALPN extension of the ClientHello at the start of `received` (the bytes a client
// sent, as received). Never reads past `received`.
client_hello_alpn read_client_hello_alpn(std::span<const unsigned char> received);

// "\x02h2\x08http/1.1" for {h2, http/1.1}; names longer than 255 bytes are left out.
std::string alpn_wire(const std::vector<std::string>& protocols);
// The other way; a malformed list ends at the first bad entry.
std::vector<std::string> alpn_names(std::span<const unsigned char> wire);

}  // namespace faultline::proxy
