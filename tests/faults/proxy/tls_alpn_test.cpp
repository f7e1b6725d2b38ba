// Reading the ALPN offer of a ClientHello before the handshake: real ClientHellos made by
// OpenSSL in memory (with and without ALPN, TLS 1.2 and 1.3 clients), every truncation of one,
// and bytes that are no ClientHello.
#include "faults/proxy/tls_alpn.hpp"

#include <catch2/catch.hpp>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

namespace fp = faultline::proxy;
using status = fp::client_hello_alpn::status;

namespace {

// The first flight of an OpenSSL client offering `alpn` (none when empty).
std::vector<unsigned char> client_hello(const std::vector<std::string>& alpn, int max_version = TLS1_3_VERSION) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);  // owned by ssl from here
  SSL_set_connect_state(ssl.get());
  SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>("example.test"));
  const auto wire = fp::alpn_wire(alpn);
  if (!wire.empty()) SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size()));
  REQUIRE(SSL_do_handshake(ssl.get()) <= 0);  // waits for the server: the ClientHello is written
  std::vector<unsigned char> bytes(static_cast<std::size_t>(BIO_ctrl_pending(out)));
  REQUIRE(BIO_read(out, bytes.data(), static_cast<int>(bytes.size())) == static_cast<int>(bytes.size()));
  return bytes;
}

}  // namespace

TEST_CASE("the ALPN offer of a real ClientHello is read, in the client's order", "[faults][proxy]") {
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    INFO(version);
    auto hello = fp::read_client_hello_alpn(client_hello({"h2", "http/1.1"}, version));
    CHECK(hello.state == status::read);
    CHECK(hello.protocols == std::vector<std::string>{"h2", "http/1.1"});
  }
  auto none = fp::read_client_hello_alpn(client_hello({}));
  CHECK(none.state == status::read);
  CHECK(none.protocols.empty());
  const std::string long_name(255, 'x');
  CHECK(fp::read_client_hello_alpn(client_hello({"redis", long_name})).protocols == std::vector<std::string>{"redis", long_name});
}

TEST_CASE("a ClientHello cut anywhere needs more bytes, never a wrong answer", "[faults][proxy]") {
  const auto bytes = client_hello({"h2", "http/1.1"});
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO(n);
    const auto part = fp::read_client_hello_alpn({bytes.data(), n});
    CHECK(part.state == status::need_more);
    CHECK(part.protocols.empty());
  }
}

TEST_CASE("bytes that are no ClientHello are unreadable: no ALPN is passed", "[faults][proxy]") {
  const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(fp::read_client_hello_alpn({reinterpret_cast<const unsigned char*>(http.data()), http.size()}).state == status::unreadable);
  auto bytes = client_hello({"h2"});
  bytes[5] = 2;  // a ServerHello in a handshake record
  CHECK(fp::read_client_hello_alpn(bytes).state == status::unreadable);
  bytes = client_hello({"h2"});
  bytes[6] = 0x7f;  // a handshake longer than its record: it would span records
  CHECK(fp::read_client_hello_alpn(bytes).state == status::unreadable);
}

TEST_CASE("the wire form of an ALPN list and back", "[faults][proxy]") {
  CHECK(fp::alpn_wire({"h2", "http/1.1"}) == std::string("\x02h2\x08http/1.1"));
  CHECK(fp::alpn_wire({"", std::string(256, 'x'), "h2"}) == std::string("\x02h2"));
  const std::string wire = "\x02h2\x08http/1.1";
  CHECK(fp::alpn_names({reinterpret_cast<const unsigned char*>(wire.data()), wire.size()}) ==
        std::vector<std::string>{"h2", "http/1.1"});
  const std::string broken = "\x02h2\x09http/1.1";  // the second entry runs past the end
  CHECK(fp::alpn_names({reinterpret_cast<const unsigned char*>(broken.data()), broken.size()}) == std::vector<std::string>{"h2"});
}
