#include "faults/proxy/tls_stream.hpp"

#include "faults/proxy/tls_alpn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace faultline::proxy {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using asio::ip::tcp;

namespace {

constexpr auto use = asio::as_tuple(asio::use_awaitable);

// Sends close_notify without waiting for the peer's: the other direction may still carry data
// (TLS 1.3 half-close). Asio's shutdown would read until the peer's close_notify, so it is told
// that one came, for the duration of the call that writes ours.
void send_close_notify(const std::shared_ptr<tls_stream::stream_type>& s, bool close_after) {
  auto finish = [s, close_after](error_code) {
    error_code ignored;
    if (close_after) {
      s->lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
      s->lowest_layer().close(ignored);
    } else {
      s->lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
    }
  };
  SSL* native = s->native_handle();
  const int before = SSL_get_shutdown(native);
  if (!s->lowest_layer().is_open() || (before & SSL_SENT_SHUTDOWN) || !SSL_is_init_finished(native)) {
    finish({});
    return;
  }
  SSL_set_shutdown(native, before | SSL_RECEIVED_SHUTDOWN);
  s->async_shutdown(finish);  // writes close_notify; SSL_shutdown ran inside this call
  SSL_set_shutdown(native, (before & SSL_RECEIVED_SHUTDOWN) | SSL_SENT_SHUTDOWN);
}

// Closes the socket if the handshake has not finished by the deadline.
class handshake_deadline {
public:
  handshake_deadline(const std::shared_ptr<tls_stream::stream_type>& s, std::chrono::steady_clock::duration after)
      : timer_(s->get_executor()) {
    timer_.expires_after(after);
    timer_.async_wait([weak = std::weak_ptr(s)](error_code ec) {
      if (ec) return;
      if (auto stream = weak.lock()) {
        error_code ignored;
        stream->lowest_layer().close(ignored);
      }
    });
  }
  ~handshake_deadline() { timer_.cancel(); }

private:
  asio::steady_timer timer_;
};

// The in-band request of protocols like PostgreSQL: answered `accept` when it asks for TLS.
asio::awaitable<error_code> answer_request(tcp::socket& client, const tls_negotiation& n) {
  std::string got(n.request.size(), '\0');
  for (;;) {
    auto [ec, bytes] = co_await asio::async_read(client, asio::buffer(got), use);
    if (ec) co_return ec;
    char answer = 0;
    if (got == n.request) answer = n.accept;
    for (const auto& d : n.decline)
      if (got == d) answer = n.refuse;
    if (!answer) co_return asio::error::make_error_code(asio::error::no_protocol_option);  // no TLS asked for
    auto [wec, written] = co_await asio::async_write(client, asio::buffer(&answer, 1), use);
    if (wec) co_return wec;
    if (answer == n.accept) co_return error_code{};
  }
}

asio::awaitable<error_code> ask_upstream(tcp::socket& server, const tls_negotiation& n) {
  auto [wec, written] = co_await asio::async_write(server, asio::buffer(n.request), use);
  if (wec) co_return wec;
  char answer = 0;
  auto [ec, bytes] = co_await asio::async_read(server, asio::buffer(&answer, 1), use);
  if (ec) co_return ec;
  if (answer != n.accept) co_return asio::error::make_error_code(asio::error::no_protocol_option);  // the server refused TLS
  co_return error_code{};
}

}  // namespace

asio::awaitable<error_code> tls_stream::wait_readable() { co_return error_code{}; }

asio::awaitable<io_result> tls_stream::read_some(asio::mutable_buffer buffer) {
  auto [ec, n] = co_await stream_->async_read_some(buffer, use);
  // A peer that closes without close_notify has still ended its stream, as many clients do.
  if (ec == ssl::error::stream_truncated) ec = asio::error::eof;
  co_return io_result{ec, n};
}

asio::awaitable<io_result> tls_stream::write(std::span<const asio::const_buffer> buffers) {
  auto [ec, n] = co_await asio::async_write(*stream_, buffers, use);
  co_return io_result{ec, n};
}

void tls_stream::shutdown_send() { send_close_notify(stream_, false); }

void tls_stream::close() { send_close_notify(stream_, true); }

void tls_stream::reset() {
  error_code ignored;
  stream_->lowest_layer().set_option(asio::socket_base::linger(true, 0), ignored);  // close() now sends RST
  stream_->lowest_layer().close(ignored);
}

asio::awaitable<tls_result> accept_tls(tcp::socket client, tls_context& context, std::optional<tls_negotiation> in_band,
                                       tls_handshake_faults faults, std::optional<std::string> upstream_alpn) {
  error_code ignored;
  client.set_option(tcp::no_delay(true), ignored);
  auto s = std::make_shared<tls_stream::stream_type>(std::move(client), *context.server());
  handshake_deadline deadline(s, tls_handshake_timeout + faults.delay);
  if (in_band)  // answered before any delay: the client is kept waiting in TLS, not before it
    if (auto ec = co_await answer_request(s->next_layer(), *in_band)) co_return tls_result{ec, nullptr};
  if (faults.delay.count() > 0) {
    // The ClientHello waits unread, as behind a slow terminator.
    asio::steady_timer wait(s->get_executor());
    wait.expires_after(faults.delay);
    co_await wait.async_wait(use);
  }
  if (faults.fail) tls_context::fail_handshake(s->native_handle());
  if (faults.expired) context.use_expired_certificate(s->native_handle());
  if (upstream_alpn) tls_context::present_upstream_alpn(s->native_handle(), &*upstream_alpn);  // lives in this frame
  auto [ec] = co_await s->async_handshake(ssl::stream_base::server, use);
  if (ec) co_return tls_result{ec, nullptr};
  co_return tls_result{ec, std::make_unique<tls_stream>(std::move(s))};
}

asio::awaitable<tls_result> connect_tls(tcp::socket server, tls_context& context, std::optional<tls_negotiation> in_band,
                                        const std::string& host, const std::vector<std::string>& alpn, std::string* chosen) {
  error_code ignored;
  server.set_option(tcp::no_delay(true), ignored);
  auto s = std::make_shared<tls_stream::stream_type>(std::move(server), *context.upstream());
  handshake_deadline deadline(s, tls_handshake_timeout);
  if (in_band)
    if (auto ec = co_await ask_upstream(s->next_layer(), *in_band)) co_return tls_result{ec, nullptr};
  const auto* u = context.upstream_settings();
  const std::string name = u && !u->server_name.empty() ? u->server_name : host;
  SSL* native = s->native_handle();
  error_code not_ip;
  (void)asio::ip::make_address(name, not_ip);
  if (not_ip)  // SSL_set_tlsext_host_name, without the macro's C cast
    SSL_ctrl(native, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(name.c_str()));
  if (u && u->verify) {
    if (not_ip) SSL_set1_host(native, name.c_str());
    else X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), name.c_str());
  }
  if (const auto wire = alpn_wire(alpn); !wire.empty())
    SSL_set_alpn_protos(native, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size()));
  auto [ec] = co_await s->async_handshake(ssl::stream_base::client, use);
  if (ec) co_return tls_result{ec, nullptr};
  if (chosen) {
    const unsigned char* selected = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(native, &selected, &length);
    chosen->assign(reinterpret_cast<const char*>(selected), selected ? length : 0);
  }
  co_return tls_result{ec, std::make_unique<tls_stream>(std::move(s))};
}

asio::awaitable<std::vector<std::string>> peek_client_alpn(tcp::socket& client) {
  // A client that sends nothing is given up on at the handshake's timeout.
  asio::steady_timer deadline(client.get_executor());
  deadline.expires_after(tls_handshake_timeout);
  deadline.async_wait([&client](error_code ec) {
    error_code ignored;
    if (!ec) client.cancel(ignored);
  });
  std::vector<unsigned char> received(16384 + 5);  // one whole TLS record
  for (;;) {
    auto [ec] = co_await client.async_wait(tcp::socket::wait_read, use);
    if (ec) co_return std::vector<std::string>{};
    error_code pec;
    const auto n = client.receive(asio::buffer(received), tcp::socket::message_peek, pec);
    if (pec || n == 0) co_return std::vector<std::string>{};
    auto hello = read_client_hello_alpn({received.data(), n});
    if (hello.state != client_hello_alpn::status::need_more) co_return std::move(hello.protocols);
    // The rest of the ClientHello is on its way; the bytes seen stay readable, so look again shortly.
    asio::steady_timer pause(client.get_executor());
    pause.expires_after(std::chrono::milliseconds(2));
    co_await pause.async_wait(use);
    if (deadline.expiry() <= std::chrono::steady_clock::now()) co_return std::vector<std::string>{};
  }
}

}  // namespace faultline::proxy
