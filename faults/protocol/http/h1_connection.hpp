#pragma once
// Follows an HTTP/1.1 connection through the proxy with Boost.Beast's parser: requests and
// responses framed (Content-Length, chunked, until EOF), pipelined requests answered in order,
// keep-alive, Expect: 100-continue and 1xx responses, HEAD. Each request is offered to the
// toxics once its header is read (request_plan); what no toxic acts on passes byte for byte.
// After a 101 Switching Protocols (WebSocket, ...) and a 2xx to CONNECT the connection is a
// tunnel: bytes pass through untouched, as does what Beast refuses to parse from there on. A
// connection that starts with the HTTP/2 preface, or after a 101 to h2c, is handed to the
// HTTP/2 follower (wire::http2, and the bytes not read yet).

#include "faults/protocol/http/http_outputs.hpp"
#include "faults/protocol/http/request_plan.hpp"
#include "faults/proxy/protocol.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace faultline::protocol::http {

class h1_connection {
public:
  explicit h1_connection(http_outputs& out);
  ~h1_connection();
  h1_connection(const h1_connection&) = delete;
  h1_connection& operator=(const h1_connection&) = delete;

  void from_client(std::string_view data, proxy::session_io& io);
  void from_server(std::string_view data, proxy::session_io& io);
  void client_ended(proxy::session_io& io);
  void server_ended(proxy::session_io& io);

  // What each direction carries now.
  wire client_wire() const { return client_wire_; }
  wire server_wire() const { return server_wire_; }
  // After a switch to HTTP/2: the bytes of each side not parsed yet, for the HTTP/2 follower.
  std::string take_client_bytes();
  std::string take_server_bytes();
  bool upgraded_to_h2c() const { return upgraded_to_h2c_; }  // (not a preface: stream 1 is under way)

private:
  struct slot;
  template <bool is_request>
  class reader;

  void parse_client(proxy::session_io& io);
  void parse_server(proxy::session_io& io);
  void request_header(proxy::session_io& io);
  void request_done();
  bool start_response(proxy::session_io& io);
  void response_bytes(std::string_view bytes, bool header_now, bool done_now, proxy::session_io& io);
  void response_done(proxy::session_io& io);
  void answer_local(proxy::session_io& io);
  void pass_rest_of_client(proxy::session_io& io);
  void switch_to_tunnel(proxy::session_io& io);
  void send_to_server(std::string_view bytes, proxy::session_io& io);
  void send_to_client(std::string_view bytes, proxy::session_io& io);

  http_outputs& out_;
  wire client_wire_ = wire::http1;
  wire server_wire_ = wire::http1;
  std::string client_bytes_;  // read, not yet parsed
  std::string request_head_;  // parsed start of a request whose header is not complete: held
  std::string server_bytes_;
  std::unique_ptr<reader<true>> request_;
  std::unique_ptr<reader<false>> response_;
  std::deque<slot> slots_;  // requests waiting for their response, in order

  // The request being read: dropped (answered here) or sent at `request_at_` for `request_holder_`.
  bool drop_request_ = false;
  proxy::time_point request_at_{};
  reply_queue::holder_ptr request_holder_;
  bool request_may_switch_ = false;  // the request being read asks for an upgrade or CONNECT
  bool wait_for_switch_ = false;  // after an upgrade or CONNECT: client bytes wait for its response
  bool closing_ = false;          // an answer with Connection: close went out: ignore the rest
  bool first_request_ = true;     // nothing parsed yet: an HTTP/2 preface may come
  bool upgraded_to_h2c_ = false;

  std::uint64_t body_passed_ = 0;  // of the response being read, for http_reset
};

}  // namespace faultline::protocol::http
