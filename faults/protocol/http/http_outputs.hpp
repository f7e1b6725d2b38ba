#pragma once
// What the http session and its HTTP/1.1 and HTTP/2 followers share: the two ordered outputs of a proxied
// connection, toward the client and toward the server, and what each direction carries.

#include "faults/protocol/reply_queue.hpp"

namespace faultline::protocol::http {

struct http_outputs {
  reply_queue to_client{proxy::direction::downstream};
  reply_queue to_server{proxy::direction::upstream};
};

// What a direction of the connection carries from now on.
enum class wire {
  http1,   // HTTP/1.1 messages
  http2,   // HTTP/2 frames (a preface, or an h2c upgrade): the HTTP/2 follower takes over
  tunnel,  // bytes passed through untouched: an upgrade, CONNECT, or what cannot be followed
  cut,     // the connection is being closed or reset: nothing more goes out
};

}  // namespace faultline::protocol::http
