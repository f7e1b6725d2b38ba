#include "faults/proxy/byte_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace faultline::proxy {
namespace asio = boost::asio;
using boost::system::error_code;

tcp_stream::tcp_stream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
  error_code ignored;  // Nagle would add up to 40 ms to small request/response exchanges
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);  // read_now and write_now must never block the thread
}

asio::awaitable<error_code> tcp_stream::wait_readable() {
  auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
  co_return ec;
}

asio::awaitable<io_result> tcp_stream::read_some(asio::mutable_buffer buffer) {
  auto [ec, n] = co_await socket_.async_read_some(buffer, asio::as_tuple(asio::use_awaitable));
  co_return io_result{ec, n};
}

asio::awaitable<io_result> tcp_stream::write(std::span<const asio::const_buffer> buffers) {
  auto [ec, n] = co_await asio::async_write(socket_, buffers, asio::as_tuple(asio::use_awaitable));
  co_return io_result{ec, n};
}

io_result tcp_stream::read_now(asio::mutable_buffer buffer) {
  error_code ec;
  auto n = socket_.read_some(buffer, ec);
  return {ec, n};
}

io_result tcp_stream::write_now(std::span<const asio::const_buffer> buffers) {
  error_code ec;
  auto n = socket_.write_some(buffers, ec);
  return {ec, n};
}

void tcp_stream::shutdown_send() {
  error_code ignored;  // the peer may already be gone; the writer learns that from its next write
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

void tcp_stream::close() {
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void tcp_stream::reset() {
  error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);  // close() now sends RST
  socket_.close(ignored);
}

}  // namespace faultline::proxy
