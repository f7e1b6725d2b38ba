#include "faults/protocol/message_session.hpp"

namespace faultline::protocol {

using proxy::direction;

void message_session::on_data(direction d, proxy::chunk c, proxy::session_io& io) {
  if (c.what != proxy::chunk::kind::data || replies_.cut()) return;
  std::string_view data(c.bytes.data(), c.bytes.size());
  if (d == direction::upstream) {
    from_client(data, io);
    send_to_server(io, to_server_, replies_.cut());
  } else {
    from_server(data, io);
  }
  replies_.flush(io);
}

void message_session::on_eof(direction d, proxy::session_io& io) {
  if (d == direction::upstream) {
    if (!replies_.cut()) client_ended();
    send_to_server(io, to_server_, replies_.cut());
    io.end(direction::upstream);
  } else {
    server_ended(io);
    replies_.push_end(io);
  }
}

}  // namespace faultline::protocol
