#pragma once
// A TCP relay on 127.0.0.1 that a test puts between the shop and PostgreSQL, and steers: pass
// bytes on, stall (hold every byte, so queries and new connections hang), or reset (close new
// and active connections as soon as they carry anything). Runs on its own thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

namespace faultline::test {

class tcp_relay {
public:
  enum class mode { pass, stall, reset };

  explicit tcp_relay(std::uint16_t upstream_port);
  ~tcp_relay();
  tcp_relay(const tcp_relay&) = delete;

  std::uint16_t port() const { return port_; }
  void set(mode m) { mode_.store(m); }

private:
  boost::asio::io_context context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint upstream_;
  std::uint16_t port_ = 0;
  std::atomic<mode> mode_{mode::pass};
  std::thread thread_;
};

}  // namespace faultline::test
