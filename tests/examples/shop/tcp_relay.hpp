#pragma once
// A TCP relay on 127.0.0.1 that a test puts between the shop and PostgreSQL, and steers: pass
// bytes on, stall (hold every byte, so queries and new connections hang), or reset (close new
// and active connections as soon as they carry anything). Runs on a tcp_test_server (its own
// thread).

#include "tests/support/tcp_test_server.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>

namespace faultline::test {

class tcp_relay {
public:
  enum class mode { pass, stall, reset };

  explicit tcp_relay(std::uint16_t upstream_port);
  tcp_relay(const tcp_relay&) = delete;

  std::uint16_t port() const { return server_.port(); }
  void set(mode m) { mode_.store(m); }

private:
  boost::asio::awaitable<void> relay(boost::asio::ip::tcp::socket client);

  boost::asio::ip::tcp::endpoint upstream_;
  std::atomic<mode> mode_{mode::pass};
  tcp_test_server server_;  // last: stops before what its sessions use goes
};

}  // namespace faultline::test
