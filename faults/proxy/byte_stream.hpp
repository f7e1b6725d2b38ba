#pragma once
// One side of a proxied connection as the data path sees it: TCP in production, in-memory pipes
// in unit tests. Expected network errors come back as error codes, never as exceptions.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <span>
#include <tuple>

namespace faultline::proxy {

using io_result = std::tuple<boost::system::error_code, std::size_t>;

class byte_stream {
public:
  virtual ~byte_stream() = default;
  virtual boost::asio::any_io_executor get_executor() = 0;
  // Completes when a read would not block (data, end of stream or an error is waiting), so an
  // idle connection holds no read buffer.
  virtual boost::asio::awaitable<boost::system::error_code> wait_readable() = 0;
  virtual boost::asio::awaitable<io_result> read_some(boost::asio::mutable_buffer buffer) = 0;
  // Writes all of `buffers` unless an error stops it.
  virtual boost::asio::awaitable<io_result> write(std::span<const boost::asio::const_buffer> buffers) = 0;
  virtual void shutdown_send() = 0;  // FIN: the peer reads EOF; reading from it goes on
  virtual void close() = 0;          // both directions, gracefully
  virtual void reset() = 0;          // abortive close: the peer sees ECONNRESET
};

class tcp_stream final : public byte_stream {
public:
  explicit tcp_stream(boost::asio::ip::tcp::socket socket);
  boost::asio::any_io_executor get_executor() override { return socket_.get_executor(); }
  boost::asio::awaitable<boost::system::error_code> wait_readable() override;
  boost::asio::awaitable<io_result> read_some(boost::asio::mutable_buffer buffer) override;
  boost::asio::awaitable<io_result> write(std::span<const boost::asio::const_buffer> buffers) override;
  void shutdown_send() override;
  void close() override;
  void reset() override;
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  // Without waiting (one recv or send): would_block when there is nothing to read or no room.
  // The connection's small-message path reads and writes in the handler that saw readiness.
  io_result read_now(boost::asio::mutable_buffer buffer);
  io_result write_now(std::span<const boost::asio::const_buffer> buffers);

private:
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace faultline::proxy
