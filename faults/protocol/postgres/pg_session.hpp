#pragma once
// `protocol: postgres`: a proxy session that follows the PostgreSQL v3 wire protocol in both
// directions and applies the pg_* toxics per query.
//
// It reads the client's messages (startup, simple and extended queries, COPY, function calls)
// and keeps, in order, what the client waits for; the server's messages are matched to those
// requests as they arrive, so pipelined queries get their own responses even when one of them
// is held back. SSLRequest and GSSENCRequest are answered 'N' (clients that prefer encryption
// go on in plaintext; clients that require it stop); a proxy that terminates TLS answers SSLRequest
// 'S' itself before the session starts, so the session sees the decrypted startup. Authentication, notices, notifications,
// parameter changes and CancelRequest connections pass untouched, as does every query no toxic
// acts on: byte for byte. Anything the session cannot follow (an unknown message, a replication
// connection's CopyBoth, a protocol other than 3.x) makes it pass the rest of that connection
// through untouched rather than guess.

#include "faults/proxy/protocol.hpp"

#include <memory>
#include <string_view>

namespace faultline::protocol::postgres {

class postgres_protocol final : public proxy::protocol {
public:
  std::string_view name() const override { return "postgres"; }
  std::unique_ptr<proxy::session> open_session() const override;
  // SSLRequest, answered 'S' by a proxy that terminates TLS (GSSENCRequest: 'N').
  std::optional<proxy::tls_negotiation> tls_request() const override;
};

// Bytes of a message body the session reads before deciding about a query: longer SQL texts are
// matched on their first max_inspected bytes (the rest passes on unread).
inline constexpr std::size_t max_inspected = 1u << 20;

}  // namespace faultline::protocol::postgres
