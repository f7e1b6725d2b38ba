#pragma once
// A Beast WebSocket server on 127.0.0.1 (a free port) for storm and WebSocket load tests: it
// accepts upgrades and holds each session, echoing every message after a set delay; it can
// stall all replies for a while, refuse upgrades beyond a session limit with an HTTP status,
// reset or ignore new connections, and close or reset the sessions it holds. It counts what it
// saw. Runs its own io_context on its own thread; `websocket_test_server_main.cpp` runs one in a
// process of its own (for more sessions than one process has descriptors for both ends).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>

namespace faultline::test {

class websocket_test_server {
public:
  enum class accept_mode {
    serve,   // complete upgrades (up to the limit)
    reset,   // accept each TCP connection and reset it at once (SO_LINGER 0)
    silent,  // accept each TCP connection and never answer its upgrade request
  };
  struct options {
    std::chrono::nanoseconds reply_delay{};  // echo each message this long after it arrived
    bool echo = true;                        // false: read messages, never answer
    std::int64_t limit = std::numeric_limits<std::int64_t>::max();  // sessions held at most
    unsigned refuse_status = 503;            // the answer to an upgrade beyond the limit
    accept_mode mode = accept_mode::serve;
    std::uint16_t port = 0;   // 0: a free port
    bool reuse_port = false;  // SO_REUSEPORT: several servers (processes) share one port
  };

  struct counts {
    std::int64_t upgraded = 0;  // upgrades accepted
    std::int64_t held = 0;      // sessions open now
    std::int64_t peak_held = 0;
    std::int64_t ended = 0;     // sessions that ended (the client went, or drop_sessions)
    std::int64_t refused = 0;   // upgrades answered with refuse_status (over the limit)
    std::int64_t messages = 0;  // messages received
  };

  explicit websocket_test_server(options o);
  websocket_test_server();
  ~websocket_test_server();
  websocket_test_server(const websocket_test_server&) = delete;
  websocket_test_server& operator=(const websocket_test_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url(const std::string& path = "/") const { return "ws://" + address() + path; }
  counts snapshot() const;

  // Every reply not yet sent (waiting or to come) waits until `d` from now has passed.
  void stall_for(std::chrono::nanoseconds d);
  // Ends every held session: a FIN (close) or an RST (reset), without a WebSocket close frame.
  void drop_sessions(bool reset);

private:
  struct state;
  std::shared_ptr<state> state_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace faultline::test
