#include "tests/faults/storm/hold_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <netinet/tcp.h>
#include <sys/resource.h>

#include <array>
#include <cstdio>
#include <mutex>

namespace faultline::test {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void report_failure(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "hold_server: %s\n", ex.what());
  }
}

}  // namespace

struct hold_server::state {
  explicit state(options o) : opts(std::move(o)), acceptor(io), resume(io) {}
  options opts;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer resume;  // a held connection ended: a paused accept loop may go on
  std::atomic<std::int64_t> accepted{0}, held{0}, peak_held{0}, refused{0}, closed_by_peer{0};
  mutable std::mutex peers_mutex;
  std::set<std::string> peers;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      while (opts.policy == over_limit::pause && held >= opts.limit) {
        resume.expires_at(asio::steady_timer::time_point::max());
        co_await resume.async_wait(use_tuple);
        if (!acceptor.is_open()) co_return;
      }
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;  // EMFILE and friends: try again
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
        continue;
      }
      // Counted here, not in the session: the limit check of the next accept must see it.
      const auto now = ++held;
      for (auto peak = peak_held.load(); now > peak && !peak_held.compare_exchange_weak(peak, now);) {
      }
      asio::co_spawn(io, hold(std::move(socket)), report_failure);
    }
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
    resume.cancel();
  }
};

hold_server::hold_server(options o) : state_(std::make_shared<state>(std::move(o))) {
  // The test process holds the server's ends of every connection.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  auto& a = state_->acceptor;
  a.open(tcp::v4());
  a.set_option(tcp::acceptor::reuse_address(true));
  a.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  a.listen(state_->opts.backlog);
  port_ = a.local_endpoint().port();
  asio::co_spawn(state_->io, state_->accept_loop(), report_failure);
  thread_ = std::thread([s = state_] { s->io.run(); });
}

hold_server::~hold_server() {
  asio::post(state_->io, [s = state_] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
    s->resume.cancel();
    s->io.stop();
  });
  thread_.join();
}

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
  if (::getsockopt(state_->acceptor.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return -1;
  return info.tcpi_unacked;  // for a listener: the current accept queue length
}

std::set<std::string> hold_server::peers() const {
  std::lock_guard lock(state_->peers_mutex);
  return state_->peers;
}

}  // namespace faultline::test
