#pragma once
// In-memory byte pipes for driving the proxy's data path in unit tests (Beast's test::stream
// idea): the proxy gets a byte_stream, the test writes and reads the other end synchronously and
// sees FIN and RST as flags. A failure injector makes the Nth read or write fail.

#include "faults/proxy/async_event.hpp"
#include "faults/proxy/byte_stream.hpp"

#include <boost/asio/error.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace faultline::test {

class memory_pipe {
  struct state {
    explicit state(boost::asio::any_io_executor ex) : readable(ex), writable(ex) {}
    std::deque<char> to_proxy;    // written by the test
    std::deque<char> from_proxy;  // written by the proxy
    bool test_fin = false;        // the test shut down its sending side
    bool test_reset = false;
    bool proxy_fin = false;  // the proxy shut down its sending side (or closed)
    bool proxy_reset = false;
    bool proxy_closed = false;
    std::size_t capacity = 0;  // bytes from_proxy may hold before the proxy's writes wait; 0: no limit
    std::size_t operations = 0;
    std::optional<std::size_t> fail_at;  // the operation number that fails
    boost::system::error_code fail_with;
    faultline::proxy::async_event readable;
    faultline::proxy::async_event writable;
    bool failing() {
      ++operations;
      return fail_at && operations == *fail_at;
    }
  };

  class end final : public faultline::proxy::byte_stream {
  public:
    end(std::shared_ptr<state> s, boost::asio::any_io_executor ex) : s_(std::move(s)), ex_(std::move(ex)) {}
    boost::asio::any_io_executor get_executor() override { return ex_; }

    boost::asio::awaitable<boost::system::error_code> wait_readable() override {
      while (!s_->proxy_closed && !s_->test_reset && s_->to_proxy.empty() && !s_->test_fin) co_await s_->readable.wait();
      co_return boost::system::error_code{};
    }

    boost::asio::awaitable<faultline::proxy::io_result> read_some(boost::asio::mutable_buffer buffer) override {
      if (s_->failing()) co_return faultline::proxy::io_result{s_->fail_with, 0};
      for (;;) {
        if (s_->proxy_closed) co_return faultline::proxy::io_result{boost::asio::error::operation_aborted, 0};
        if (s_->test_reset) co_return faultline::proxy::io_result{boost::asio::error::connection_reset, 0};
        if (!s_->to_proxy.empty()) {
          auto n = std::min(buffer.size(), s_->to_proxy.size());
          auto* out = static_cast<char*>(buffer.data());
          std::copy_n(s_->to_proxy.begin(), n, out);
          s_->to_proxy.erase(s_->to_proxy.begin(), s_->to_proxy.begin() + static_cast<std::ptrdiff_t>(n));
          co_return faultline::proxy::io_result{boost::system::error_code{}, n};
        }
        if (s_->test_fin) co_return faultline::proxy::io_result{boost::asio::error::eof, 0};
        co_await s_->readable.wait();
      }
    }

    boost::asio::awaitable<faultline::proxy::io_result> write(std::span<const boost::asio::const_buffer> buffers) override {
      if (s_->failing()) co_return faultline::proxy::io_result{s_->fail_with, 0};
      std::size_t total = 0;
      for (const auto& b : buffers) {
        const auto* p = static_cast<const char*>(b.data());
        for (std::size_t i = 0; i < b.size(); ++i) {
          while (s_->capacity && s_->from_proxy.size() >= s_->capacity && !s_->proxy_closed) co_await s_->writable.wait();
          if (s_->proxy_closed) co_return faultline::proxy::io_result{boost::asio::error::operation_aborted, total};
          if (s_->test_reset) co_return faultline::proxy::io_result{boost::asio::error::connection_reset, total};
          if (s_->proxy_fin) co_return faultline::proxy::io_result{boost::asio::error::broken_pipe, total};
          s_->from_proxy.push_back(p[i]);
          ++total;
        }
      }
      co_return faultline::proxy::io_result{boost::system::error_code{}, total};
    }

    void shutdown_send() override { s_->proxy_fin = true; }
    void close() override {
      s_->proxy_fin = true;
      s_->proxy_closed = true;
      s_->readable.notify();
      s_->writable.notify();
    }
    void reset() override {
      s_->proxy_reset = true;
      close();
    }

  private:
    std::shared_ptr<state> s_;
    boost::asio::any_io_executor ex_;
  };

public:
  explicit memory_pipe(boost::asio::any_io_executor ex) : ex_(ex), s_(std::make_shared<state>(ex)) {}

  // The proxy's side of the pipe (call once).
  std::unique_ptr<faultline::proxy::byte_stream> proxy_end() { return std::make_unique<end>(s_, ex_); }

  // The test's side.
  void write(std::string_view data) {
    s_->to_proxy.insert(s_->to_proxy.end(), data.begin(), data.end());
    s_->readable.notify();
  }
  void shutdown_send() {
    s_->test_fin = true;
    s_->readable.notify();
  }
  void reset() {
    s_->test_reset = true;
    s_->readable.notify();
  }
  std::string read() {  // everything the proxy wrote since the last read
    std::string out(s_->from_proxy.begin(), s_->from_proxy.end());
    s_->from_proxy.clear();
    s_->writable.notify();
    return out;
  }
  std::size_t pending() const { return s_->from_proxy.size(); }
  bool fin() const { return s_->proxy_fin; }  // the proxy sent FIN (or closed)
  bool was_reset() const { return s_->proxy_reset; }
  bool closed() const { return s_->proxy_closed; }
  void limit_capacity(std::size_t bytes) { s_->capacity = bytes; }
  void fail_operation(std::size_t nth, boost::system::error_code ec) {
    s_->fail_at = s_->operations + nth;
    s_->fail_with = ec;
  }

private:
  boost::asio::any_io_executor ex_;
  std::shared_ptr<state> s_;
};

}  // namespace faultline::test
