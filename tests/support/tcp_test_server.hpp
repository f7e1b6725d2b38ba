#pragma once
// The TCP server under the tests' small servers (echo, sink, hold, WebSocket, HTTP, relay): it
// listens on 127.0.0.1 on a free port, runs its own io_context on its own thread and runs one
// session coroutine per accepted connection; stop() (or the destructor) stops it and joins.
// Sessions and hooks all run on the server's thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace faultline::test {

class tcp_test_server {
public:
  using tcp = boost::asio::ip::tcp;
  using session = std::function<boost::asio::awaitable<void>(tcp::socket)>;

  struct options {
    std::string name = "tcp_test_server";  // in the log line of a session that throws
    int backlog = 4096;
    bool raise_fd_limit = false;  // for servers that hold thousands of connections
    // Called as each connection is accepted, before its session starts and before the next
    // accept: false drops it (the hook closed or reset it, and counted it if it counts).
    std::function<bool(tcp::socket&)> admit;
    // Awaited before each accept: a server that stops accepting for a while waits here.
    std::function<boost::asio::awaitable<void>()> before_accept;
  };

  explicit tcp_test_server(session s) : tcp_test_server(std::move(s), options{}) {}
  tcp_test_server(session s, options o);
  ~tcp_test_server();
  tcp_test_server(const tcp_test_server&) = delete;
  tcp_test_server& operator=(const tcp_test_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::size_t accepted() const { return accepted_.load(); }
  // The listening socket, for reading its state (TCP_INFO) from another thread.
  int listener() const { return listener_; }
  boost::asio::io_context& context() { return io_; }

  // Runs `task` on the server's thread; an exception it throws is logged.
  void spawn(boost::asio::awaitable<void> task);
  // Stops the io_context and joins its thread; sessions in flight end with it. Idempotent.
  void stop();

private:
  boost::asio::awaitable<void> accept_loop();

  session session_;
  options options_;
  boost::asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<std::size_t> accepted_{0};
  std::thread thread_;
};

}  // namespace faultline::test
