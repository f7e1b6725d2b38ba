#pragma once
// A Beast WebSocket server on loopback for storm tests: accepts upgrades and holds each session
// (reading until the client goes), counting upgrades and sessions held. Runs on its own thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

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

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  counts snapshot() const;

private:
  struct state;
  std::shared_ptr<state> state_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace faultline::test
