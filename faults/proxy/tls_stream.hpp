#pragma once
// TLS on one side of a proxied connection: a byte_stream over Asio's ssl::stream, so links,
// toxics and protocol sessions see the plaintext, and the handshakes that make one (the server
// side towards the client, with the TLS-level faults; the client side towards a TLS upstream).

#include "faults/proxy/byte_stream.hpp"
#include "faults/proxy/protocol.hpp"
#include "faults/proxy/tls_context.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace faultline::proxy {

class tls_stream final : public byte_stream {
public:
  using stream_type = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  explicit tls_stream(std::shared_ptr<stream_type> stream) : stream_(std::move(stream)) {}
  boost::asio::any_io_executor get_executor() override { return stream_->get_executor(); }
  // Completes at once: bytes on the socket need not be plaintext, so the read itself waits.
  boost::asio::awaitable<boost::system::error_code> wait_readable() override;
  boost::asio::awaitable<io_result> read_some(boost::asio::mutable_buffer buffer) override;
  boost::asio::awaitable<io_result> write(std::span<const boost::asio::const_buffer> buffers) override;
  void shutdown_send() override;  // close_notify, then FIN
  void close() override;          // close_notify, then the socket closes
  void reset() override;

private:
  std::shared_ptr<stream_type> stream_;
};

// What the TLS-level toxics do to one client handshake.
struct tls_handshake_faults {
  std::chrono::milliseconds delay{0};  // before the proxy answers the ClientHello
  bool fail = false;                   // a handshake_failure alert instead of a ServerHello
  bool expired = false;                // present a certificate that expired yesterday
};

using tls_result = std::pair<boost::system::error_code, std::unique_ptr<byte_stream>>;

// How long a handshake may take before the proxy gives up on it (not counting an injected delay).
inline constexpr std::chrono::seconds tls_handshake_timeout{10};

// The server side towards the client: the protocol's in-band request first (if it has one),
// then the handshake. `upstream_alpn`: what the upstream chose from the client's ALPN offer
// (empty: none), presented to the client; none: the proxy's own choice (tls.alpn).
boost::asio::awaitable<tls_result> accept_tls(boost::asio::ip::tcp::socket client, tls_context& context,
                                              std::optional<tls_negotiation> in_band, tls_handshake_faults faults,
                                              std::optional<std::string> upstream_alpn = std::nullopt);

// The client side towards a TLS upstream at `host` (checked and sent as SNI unless
// upstream_tls.server_name says otherwise), offering `alpn` (the client's offer, maybe none);
// `chosen` receives the upstream's choice (empty: none).
boost::asio::awaitable<tls_result> connect_tls(boost::asio::ip::tcp::socket server, tls_context& context,
                                               std::optional<tls_negotiation> in_band, const std::string& host,
                                               const std::vector<std::string>& alpn = {}, std::string* chosen = nullptr);

// The ALPN protocols the client offers in its ClientHello, read without consuming it (the
// handshake reads it again); none when it offers none, sends something else, or nothing within
// the handshake timeout.
boost::asio::awaitable<std::vector<std::string>> peek_client_alpn(boost::asio::ip::tcp::socket& client);

}  // namespace faultline::proxy
