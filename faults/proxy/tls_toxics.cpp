#include "faults/proxy/tls_toxics.hpp"

#include "core/units.hpp"
#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

namespace faultline::proxy {
namespace {

// Handshakes are counted as the toxic's messages: seen, and acted on after toxicity.
toxic_effect handshakes(const toxic_stats& s, const char* what) {
  return {s.messages_affected_total > 0,
          fmt::format("{} of {} {}", s.messages_affected_total, plural(s.messages_total, "TLS handshake", "TLS handshakes"), what)};
}

}  // namespace

void tls_handshake_toxic::on_data(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp;
  io.pass(std::move(c), at);
}

const toxic_descriptor& tls_handshake_delay_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "tls_handshake_delay",
      .summary = "hold each client's TLS handshake for `delay` before answering (needs tls: terminate)",
      .params = {duration_param("delay", "how long the ClientHello waits unanswered", std::nullopt)},
      .make = made_of<tls_handshake_delay_toxic>(),
      .describe = [](const toxic_stats& s) { return handshakes(s, "delayed"); },
  };
  return d;
}

tls_handshake_delay_toxic::tls_handshake_delay_toxic(const params& p)
    : tls_handshake_toxic(type_descriptor(), p),
      delay_(std::chrono::duration_cast<std::chrono::milliseconds>(p.duration("delay"))) {}

void tls_handshake_delay_toxic::apply(tls_handshake_faults& faults) const { faults.delay += delay_; }

const toxic_descriptor& tls_handshake_fail_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "tls_handshake_fail",
      .summary = "answer the client's ClientHello with a handshake_failure alert (needs tls: terminate)",
      .make = made_of<tls_handshake_fail_toxic>(),
      .describe = [](const toxic_stats& s) { return handshakes(s, "failed with an alert"); },
  };
  return d;
}

tls_handshake_fail_toxic::tls_handshake_fail_toxic(const params& p) : tls_handshake_toxic(type_descriptor(), p) {}

const toxic_descriptor& tls_expired_cert_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "tls_expired_cert",
      .summary = "present a certificate that expired yesterday (needs tls: terminate)",
      .make = made_of<tls_expired_cert_toxic>(),
      .describe = [](const toxic_stats& s) { return handshakes(s, "got an expired certificate"); },
  };
  return d;
}

tls_expired_cert_toxic::tls_expired_cert_toxic(const params& p) : tls_handshake_toxic(type_descriptor(), p) {}

}  // namespace faultline::proxy
