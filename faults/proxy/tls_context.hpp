#pragma once
// The OpenSSL contexts of one TLS proxy, built once from its tls_settings when it starts
// listening: the server side (the given certificate, or a throwaway CA and a leaf for the listen
// host, the CA written where clients can trust it), an expired leaf for tls_expired_cert, and
// the client side towards a TLS upstream. TLS 1.2 and 1.3 only.

#include "faults/proxy/tls_config.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <optional>
#include <string>

using SSL = struct ssl_st;

namespace faultline::proxy {

class tls_context {
public:
  // Throws proxy_error(invalid) naming the file or setting that is wrong.
  tls_context(const tls_settings& settings, const std::string& proxy_name, const std::string& listen_host);
  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  boost::asio::ssl::context* server() { return server_ ? &*server_ : nullptr; }
  boost::asio::ssl::context* upstream() { return upstream_ ? &*upstream_ : nullptr; }
  const upstream_tls_settings* upstream_settings() const { return settings_.upstream ? &*settings_.upstream : nullptr; }
  const std::string& ca_file() const { return ca_file_; }  // the generated CA's certificate, if any

  // Makes this connection present a certificate that expired yesterday, for the same names
  // (signed by the generated CA; self-signed when the proxy uses given files).
  void use_expired_certificate(SSL* ssl) const;
  // Makes this connection's handshake fail with a handshake_failure alert after the ClientHello.
  static void fail_handshake(SSL* ssl);
  // Makes this connection answer the client's ALPN offer with what the upstream chose: `chosen`
  // (empty: the upstream chose none, so neither does the proxy). It must outlive the handshake.
  // Without this call the proxy chooses the first of tls.alpn the client offered, or none.
  static void present_upstream_alpn(SSL* ssl, const std::string* chosen);

private:
  struct keys;
  tls_settings settings_;
  std::string ca_file_;
  std::unique_ptr<keys> keys_;
  std::optional<boost::asio::ssl::context> server_;
  std::optional<boost::asio::ssl::context> upstream_;
};

}  // namespace faultline::proxy
