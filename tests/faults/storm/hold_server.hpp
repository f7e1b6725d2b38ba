#pragma once
// A loopback TCP server for storm tests with a known accept backlog and connection limit that
// counts what it saw: it accepts and holds connections until `limit` are held; beyond that it
// either stops accepting (the kernel's accept queue fills, then SYNs are dropped) or accepts and
// resets at once. Optionally answers each new connection with a line (a canned HTTP response,
// say) and closes it gracefully instead of holding it. Runs on a tcp_test_server (its own thread).

#include "tests/support/tcp_test_server.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <string>

namespace faultline::test {

class hold_server {
public:
  enum class over_limit {
    pause,  // stop accepting while `limit` connections are held
    reset,  // accept and reset (SO_LINGER 0) at once: the server's own refusal
  };
  struct options {
    int backlog = 4096;
    std::int64_t limit = std::numeric_limits<std::int64_t>::max();
    over_limit policy = over_limit::pause;
    std::string reply;       // written to each held connection after accept (e.g. "HTTP/1.1 503 ...")
    bool close_after_reply = false;  // then close gracefully (FIN) instead of holding
  };

  struct counts {
    std::int64_t accepted = 0;        // accept() returned it
    std::int64_t held = 0;            // open now
    std::int64_t peak_held = 0;
    std::int64_t refused = 0;         // reset at once (over the limit)
    std::int64_t closed_by_peer = 0;  // the client closed (EOF or reset) a held connection
  };

  explicit hold_server(options o);
  hold_server() : hold_server(options{}) {}
  ~hold_server();
  hold_server(const hold_server&) = delete;
  hold_server& operator=(const hold_server&) = delete;

  std::uint16_t port() const { return server_->port(); }
  std::string address() const { return server_->address(); }
  counts snapshot() const;
  // Connections the kernel completed but the server has not accepted (TCP_INFO of the listener).
  std::int64_t accept_queue() const;
  // The distinct client addresses seen.
  std::set<std::string> peers() const;

private:
  struct state;
  std::shared_ptr<state> state_;
  std::unique_ptr<tcp_test_server> server_;  // after state_: stops before the state its sessions use goes
};

}  // namespace faultline::test
