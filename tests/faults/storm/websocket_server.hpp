#pragma once
// A Beast WebSocket server on loopback for storm tests: accepts upgrades and holds each session
// (reading until the client goes), counting upgrades and sessions held. Runs on a tcp_test_server
// (its own thread).

#include "tests/support/tcp_test_server.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace faultline::test {

class websocket_server {
public:
  struct counts {
    std::int64_t upgraded = 0;   // upgrades accepted
    std::int64_t held = 0;       // sessions open now
    std::int64_t peak_held = 0;
    std::int64_t ended = 0;      // sessions the client ended
  };

  websocket_server();
  ~websocket_server();
  websocket_server(const websocket_server&) = delete;
  websocket_server& operator=(const websocket_server&) = delete;

  std::uint16_t port() const { return server_->port(); }
  std::string address() const { return server_->address(); }
  counts snapshot() const;

private:
  struct state;
  std::shared_ptr<state> state_;
  std::unique_ptr<tcp_test_server> server_;  // after state_: stops before the state its sessions use goes
};

}  // namespace faultline::test
