#pragma once
// `protocol: redis`: a proxy session that reads RESP2/RESP3 commands (multibulk and inline,
// pipelined) and the server's replies, and applies the redis_* toxics per command.
//
// Each command the client sends waits, in order, for its reply: from the server, or one the
// session makes (an injected error, a miss). A held reply holds every reply behind it, so a
// pipeline keeps its order. HELLO switches the replies the session makes to RESP3 once the
// server accepted it. Inside MULTI only delays apply (an error or miss would not be a +QUEUED).
// After SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, MONITOR or CLIENT REPLY, and after anything the
// session cannot read, the rest of the connection passes through untouched.

#include "faults/proxy/protocol.hpp"

#include <memory>
#include <string_view>

namespace faultline::protocol::redis {

class redis_protocol final : public proxy::protocol {
public:
  std::string_view name() const override { return "redis"; }
  std::unique_ptr<proxy::session> open_session() const override;
};

}  // namespace faultline::protocol::redis
