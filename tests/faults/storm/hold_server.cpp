#include "tests/faults/storm/hold_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <netinet/tcp.h>

#include <array>
#include <mutex>

namespace faultline::test {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

// Everything here runs on the server's thread but the counters, which tests read.
struct hold_server::state {
  explicit state(options o) : opts(std::move(o)) {}
  options opts;
  std::atomic<std::int64_t> accepted{0}, held{0}, peak_held{0}, refused{0}, closed_by_peer{0};
  mutable std::mutex peers_mutex;
  std::set<std::string> peers;
  asio::steady_timer* resume = nullptr;  // set while accepting is paused: a held connection ended

  // Before each accept: with the pause policy, wait while `limit` connections are held.
  asio::awaitable<void> wait_below_limit() {
    asio::steady_timer wake(co_await asio::this_coro::executor);
    resume = &wake;
    while (opts.policy == over_limit::pause && held >= opts.limit) {
      wake.expires_at(asio::steady_timer::time_point::max());
      co_await wake.async_wait(use_tuple);
    }
    resume = nullptr;
  }

  // As each connection is accepted: counted here, not in the session, so that the limit check of
  // the next accept sees it.
  bool admit(tcp::socket& socket) {
    ++accepted;
    boost::system::error_code ignored;
    auto peer = socket.remote_endpoint(ignored);
    {
      std::lock_guard lock(peers_mutex);
      peers.insert(peer.address().to_string());
    }
    if (held >= opts.limit) {
      socket.set_option(asio::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
      ++refused;
      return false;
    }
    const auto now = ++held;
    for (auto peak = peak_held.load(); now > peak && !peak_held.compare_exchange_weak(peak, now);) {
    }
    return true;
  }

  asio::awaitable<void> hold(tcp::socket socket) {
    if (!opts.reply.empty()) {
      co_await asio::async_write(socket, asio::buffer(opts.reply), use_tuple);
      if (opts.close_after_reply) {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
      }
    }
    std::array<char, 4096> buffer;
    for (;;) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
      if (ec) {
        if (ec != asio::error::operation_aborted) ++closed_by_peer;
        break;
      }
    }
    --held;
    if (resume) resume->cancel();
  }
};

hold_server::hold_server(options o) : state_(std::make_shared<state>(std::move(o))) {
  tcp_test_server::options serve;
  serve.name = "hold_server";
  serve.backlog = state_->opts.backlog;
  serve.raise_fd_limit = true;
  serve.admit = [s = state_.get()](tcp::socket& socket) { return s->admit(socket); };
  serve.before_accept = [s = state_.get()] { return s->wait_below_limit(); };
  server_ = std::make_unique<tcp_test_server>([s = state_.get()](tcp::socket socket) { return s->hold(std::move(socket)); },
                                              std::move(serve));
}

hold_server::~hold_server() = default;

hold_server::counts hold_server::snapshot() const {
  counts c;
  c.accepted = state_->accepted;
  c.held = state_->held;
  c.peak_held = state_->peak_held;
  c.refused = state_->refused;
  c.closed_by_peer = state_->closed_by_peer;
  return c;
}

std::int64_t hold_server::accept_queue() const {
  tcp_info info{};
  socklen_t size = sizeof(info);
  // Read from another thread: a getsockopt on the descriptor does not touch Asio's state.
  if (::getsockopt(server_->listener(), IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return -1;
  return info.tcpi_unacked;  // for a listener: the current accept queue length
}

std::set<std::string> hold_server::peers() const {
  std::lock_guard lock(state_->peers_mutex);
  return state_->peers;
}

}  // namespace faultline::test
