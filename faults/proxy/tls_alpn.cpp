#include "faults/proxy/tls_alpn.hpp"

#include <cstdint>

namespace faultline::proxy {
namespace {

// A bounds-checked reader over one ClientHello; any read past the end sets `bad`.
struct reader {
  std::span<const unsigned char> bytes;
  std::size_t at = 0;
  bool bad = false;

  std::size_t number(std::size_t width) {
    if (at + width > bytes.size()) {
      bad = true;
      return 0;
    }
    std::size_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v = (v << 8) | bytes[at + i];
    at += width;
    return v;
  }
  std::span<const unsigned char> take(std::size_t n) {
    if (at + n > bytes.size()) {
      bad = true;
      return {};
    }
    auto out = bytes.subspan(at, n);
    at += n;
    return out;
  }
};

constexpr unsigned char handshake_record = 22;
constexpr unsigned char client_hello = 1;
constexpr std::size_t alpn_extension = 16;

}  // namespace

client_hello_alpn read_client_hello_alpn(std::span<const unsigned char> received) {
  using status = client_hello_alpn::status;
  client_hello_alpn out;
  if (received.empty()) return out;
  if (received[0] != handshake_record) return {status::unreadable, {}};
  if (received.size() < 5) return out;
  const std::size_t record_length = (std::size_t{received[3]} << 8) | received[4];
  if (received.size() < 5 + record_length) {
    out.state = record_length > 16384 ? status::unreadable : status::need_more;
    return out;
  }
  reader r{received.subspan(5, record_length)};
  if (r.number(1) != client_hello) return {status::unreadable, {}};
  const auto hello_length = r.number(3);
  if (r.bad || hello_length + 4 > record_length) return {status::unreadable, {}};  // spans several records
  r.take(2 + 32);            // legacy_version, random
  r.take(r.number(1));       // legacy_session_id
  r.take(r.number(2));       // cipher_suites
  r.take(r.number(1));       // legacy_compression_methods
  if (r.bad) return {status::unreadable, {}};
  out.state = status::read;
  if (r.at == 4 + hello_length) return out;  // no extensions at all
  reader ext{r.take(r.number(2))};
  if (r.bad) return {status::unreadable, {}};
  while (ext.at < ext.bytes.size()) {
    const auto type = ext.number(2);
    auto body = ext.take(ext.number(2));
    if (ext.bad) return {status::unreadable, {}};
    if (type != alpn_extension) continue;
    reader list{body};
    out.protocols = alpn_names(list.take(list.number(2)));
    break;
  }
  return out;
}

std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string out;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) continue;
    out += static_cast<char>(p.size());
    out += p;
  }
  return out;
}

std::vector<std::string> alpn_names(std::span<const unsigned char> wire) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < wire.size();) {
    const std::size_t n = wire[at];
    if (n == 0 || at + 1 + n > wire.size()) break;
    out.emplace_back(reinterpret_cast<const char*>(wire.data() + at + 1), n);
    at += 1 + n;
  }
  return out;
}

}  // namespace faultline::proxy
