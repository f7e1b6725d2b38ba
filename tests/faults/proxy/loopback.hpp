#pragma once
// Real upstream servers on 127.0.0.1 (port 0) for integration tests of the proxy, each a
// tcp_test_server on its own thread, and blocking client helpers with receive timeouts so a broken proxy fails a test
// instead of hanging it.

#include "tests/support/tcp_test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace faultline::test {

namespace asio = boost::asio;
using asio::ip::tcp;

// FNV-1a over a byte stream, to compare what was sent and received.
struct checksum {
  std::uint64_t value = 1469598103934665603ULL;
  std::uint64_t bytes = 0;
  void add(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) value = (value ^ static_cast<unsigned char>(p[i])) * 1099511628211ULL;
    bytes += n;
  }
};

class loopback_server {
public:
  enum class mode {
    echo,  // writes back what it reads; FIN after the client's FIN
    sink,  // reads to EOF, then answers "<bytes> <checksum>\n" and closes (needs half-close)
  };

  explicit loopback_server(mode m)
      : mode_(m), server_([this](tcp::socket s) { return serve(std::move(s)); }, {.name = "loopback_server"}) {}
  std::uint16_t port() const { return server_.port(); }
  std::string address() const { return server_.address(); }
  std::size_t accepted() const { return server_.accepted(); }

private:
  asio::awaitable<void> serve(tcp::socket s) {
    std::vector<char> buf(64 * 1024);
    checksum sum;
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::eof) break;
      if (ec) co_return;
      if (mode_ == mode::echo) {
        auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
        if (wec) co_return;
      } else {
        sum.add(buf.data(), n);
      }
    }
    if (mode_ == mode::sink) {
      auto answer = std::to_string(sum.bytes) + " " + std::to_string(sum.value) + "\n";
      co_await asio::async_write(s, asio::buffer(answer), asio::as_tuple(asio::use_awaitable));
    }
    boost::system::error_code ignored;
    s.shutdown(tcp::socket::shutdown_send, ignored);
    // Wait for the peer to close, so that closing here sends FIN, not RST.
    co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
  }

  mode mode_;
  tcp_test_server server_;  // last: stops before what its sessions use goes
};

// A blocking client socket whose reads give up after `timeout` (the read then fails).
inline tcp::socket connect_to(asio::io_context& ioc, const std::string& address, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto colon = address.rfind(':');
  tcp::socket s(ioc);
  s.connect({asio::ip::make_address(address.substr(0, colon)), static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))});
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  s.set_option(tcp::no_delay(true));
  return s;
}

// recv() itself, so SO_RCVTIMEO applies (Asio's blocking reads would wait again on EAGAIN).
inline std::size_t recv_some(tcp::socket& s, char* buf, std::size_t n, boost::system::error_code& ec) {
  auto r = ::recv(s.native_handle(), buf, n, 0);
  if (r > 0) {
    ec = {};
    return static_cast<std::size_t>(r);
  }
  ec = r == 0 ? boost::system::error_code(asio::error::eof) : boost::system::error_code(errno, boost::system::system_category());
  return 0;
}

// Reads until EOF (or an error, or the timeout); returns what came and the error that ended it.
inline std::pair<std::string, boost::system::error_code> read_to_end(tcp::socket& s) {
  std::string out;
  std::vector<char> buf(65536);
  boost::system::error_code ec;
  for (;;) {
    auto n = recv_some(s, buf.data(), buf.size(), ec);
    out.append(buf.data(), n);
    if (ec) return {out, ec};
  }
}

// Reads exactly n bytes unless EOF, an error or the timeout comes first.
inline std::string read_exactly(tcp::socket& s, std::size_t n, boost::system::error_code& ec) {
  std::string out;
  std::vector<char> buf(65536);
  while (out.size() < n) {
    auto got = recv_some(s, buf.data(), std::min(buf.size(), n - out.size()), ec);
    out.append(buf.data(), got);
    if (ec) break;
  }
  return out;
}

}  // namespace faultline::test
