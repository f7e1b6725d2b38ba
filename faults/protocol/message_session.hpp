#pragma once
// What the PostgreSQL and Redis sessions share around their framing: the bytes of each call are
// framed by from_client() (into to_server_) or from_server() (into replies_), and what was
// gathered goes out at the end of the call; the end of either side passes on after what the
// session still held. A session only frames and answers messages.

#include "faults/protocol/reply_queue.hpp"
#include "faults/proxy/protocol.hpp"

#include <string_view>

namespace faultline::protocol {

class message_session : public proxy::session {
public:
  void on_data(proxy::direction d, proxy::chunk c, proxy::session_io& io) final;
  void on_eof(proxy::direction d, proxy::session_io& io) final;

protected:
  virtual void from_client(std::string_view data, proxy::session_io& io) = 0;
  virtual void from_server(std::string_view data, proxy::session_io& io) = 0;
  // A side ended in the middle of a message: what was read of it goes on as it is (into
  // to_server_, or replies_).
  virtual void client_ended() = 0;
  virtual void server_ended(proxy::session_io& io) { (void)io; }

  proxy::byte_buffer to_server_;  // framed in this call, sent at its end
  reply_queue replies_;
};

}  // namespace faultline::protocol
