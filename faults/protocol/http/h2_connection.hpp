#pragma once
// Follows an HTTP/2 connection through the proxy (prior knowledge, or after an h2c upgrade) and
// applies the http and grpc toxics per stream: each request's header block is offered to them
// (request_plan) once complete. Frames pass one for one as they came, but header blocks, which
// are decoded and encoded again per hop (h2_frames), so that a stream answered here never
// reaches the server, and a held or cut stream leaves the others on the connection alone.

#include "faults/protocol/http/h2_frames.hpp"
#include "faults/protocol/http/http_outputs.hpp"
#include "faults/protocol/http/request_plan.hpp"
#include "faults/proxy/protocol.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::protocol::http {

class h2_connection {
public:
  // `upgraded`: after an h2c upgrade, stream 1 is the request that asked for it (already offered
  // to the toxics as an HTTP/1.1 request) and goes on untouched.
  h2_connection(http_outputs& out, bool upgraded);

  void from_client(std::string_view data, proxy::session_io& io);
  void from_server(std::string_view data, proxy::session_io& io);
  void client_ended(proxy::session_io& io);
  void server_ended(proxy::session_io& io);
  // The toxics changed: what was held for one that is gone goes on now.
  void release_orphans(proxy::session_io& io);

  wire state() const { return wire_; }

private:
  // One direction of the connection: what its sender wrote, not yet framed.
  struct side {
    std::string bytes;
    bool preface = false;  // the client's preface is still to come
    h2::hpack_decoder decoder;  // the sender's header blocks
    h2::hpack_encoder encoder;  // header blocks toward the receiver
    // A header block that continues in CONTINUATION frames.
    std::optional<h2::frame_header> block_start;
    std::string block_prefix;  // HEADERS' priority fields, PUSH_PROMISE's promised stream
    std::string block;
    bool ended = false;  // the sender closed its half; the end passes on once nothing is held
    bool end_passed = false;
  };

  // Frames of one stream and direction held until `at` (a delay, or an answer given later).
  struct hold {
    bool active = false;
    proxy::time_point at{};
    reply_queue::holder_ptr holder;
    std::vector<proxy::byte_buffer> frames;
  };

  // A stream a toxic acts on (the others are not tracked).
  struct stream {
    bool answered = false;  // the server never sees it: the client's frames are dropped
    bool reset = false;     // cut by http_reset: both sides' frames are dropped
    hold request;           // client -> server
    hold response;          // server -> client (a delayed answer too)
    reply_hold response_delay;
    bool response_started = false;
    std::optional<cut_plan> cut;
    std::uint64_t body_passed = 0;
    bool client_closed = false;  // END_STREAM or RST_STREAM seen from (or sent to) the client
    bool server_closed = false;
  };

  void parse(proxy::direction d, proxy::session_io& io);
  void frame(proxy::direction d, const h2::frame_header& h, std::string_view whole, proxy::session_io& io);
  void header_block(proxy::direction d, const h2::frame_header& h, std::string_view prefix, std::string_view block, proxy::session_io& io);
  void request(std::uint32_t id, const h2::header_list& fields, std::uint8_t flags, std::string_view prefix, proxy::session_io& io);
  void server_data(stream& s, std::uint32_t id, const h2::frame_header& h, std::string_view whole, proxy::session_io& io);
  void cut_stream(stream& s, std::uint32_t id, proxy::session_io& io);
  void client_window_update(std::string_view whole, std::string_view payload, proxy::session_io& io);
  void forget_if_done(std::uint32_t id);

  void send(proxy::direction d, std::uint32_t id, proxy::byte_buffer frame, proxy::session_io& io);
  void send_now(proxy::direction d, std::string_view bytes, proxy::session_io& io);
  // The server's first frame (its SETTINGS) goes to the client, then what the proxy made before it.
  void start_server(std::string_view first, proxy::session_io& io);
  void start_hold(hold& h, proxy::direction d, std::uint32_t id, proxy::time_point at, reply_queue::holder_ptr holder, proxy::session_io& io);
  void release(hold& h, proxy::direction d, proxy::session_io& io);
  void pass_end(proxy::direction d, proxy::session_io& io);
  bool holding(proxy::direction d) const;
  void fail(proxy::session_io& io, std::string_view why);

  side& from(proxy::direction d) { return d == proxy::direction::upstream ? client_ : server_; }
  reply_queue& toward(proxy::direction d) { return d == proxy::direction::upstream ? out_.to_server : out_.to_client; }

  http_outputs& out_;
  wire wire_ = wire::http2;
  side client_;
  side server_;
  std::map<std::uint32_t, stream> streams_;
  std::uint32_t last_client_stream_ = 0;
  // Bytes of DATA the proxy sent the client itself (answers' bodies): the client's connection
  // WINDOW_UPDATEs for them are not the server's to see.
  std::uint64_t client_window_debt_ = 0;
  // The server's SETTINGS must be the first frame the client gets (RFC 9113, 3.4): frames the
  // proxy makes for the client before it (an answer to the first request) wait in
  // early_to_client_; clients (curl, h2load) otherwise end the connection with GOAWAY.
  bool server_started_ = false;
  std::string early_to_client_;
};

}  // namespace faultline::protocol::http
