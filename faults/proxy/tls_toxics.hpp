#pragma once
// The TLS-level toxics of a proxy that terminates TLS: tls_handshake_delay (a slow terminator),
// tls_handshake_fail (a handshake_failure alert) and tls_expired_cert (a certificate that
// expired yesterday). They act once per client connection, on its handshake, before any byte
// flows; on the byte chains they pass everything untouched. Toxicity is the share of handshakes
// acted on; the stream does not matter.

#include "faults/proxy/tls_stream.hpp"
#include "faults/proxy/toxic.hpp"

namespace faultline::proxy {

class tls_handshake_toxic : public toxic {
public:
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
  virtual void apply(tls_handshake_faults& faults) const = 0;

protected:
  using toxic::toxic;
};

class tls_handshake_delay_toxic final : public tls_handshake_toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit tls_handshake_delay_toxic(const params& p);
  void apply(tls_handshake_faults& faults) const override;

private:
  std::chrono::milliseconds delay_;
};

class tls_handshake_fail_toxic final : public tls_handshake_toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit tls_handshake_fail_toxic(const params& p);
  void apply(tls_handshake_faults& faults) const override { faults.fail = true; }
};

class tls_expired_cert_toxic final : public tls_handshake_toxic {
public:
  static const toxic_descriptor& type_descriptor();
  explicit tls_expired_cert_toxic(const params& p);
  void apply(tls_handshake_faults& faults) const override { faults.expired = true; }
};

}  // namespace faultline::proxy
