#include "engine/metrics/metrics_server.hpp"

#include "core/log.hpp"
#include "core/prometheus.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace faultline::engine {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
}  // namespace

struct metrics_server::impl {
  explicit impl(const tcp::endpoint& endpoint) : acceptor(ioc) {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
  }

  asio::io_context ioc{1};
  tcp::acceptor acceptor;
  std::thread thread;
  std::shared_ptr<spdlog::logger> log = logger("metrics");

  mutable std::mutex mutex;
  std::condition_variable scraped;
  std::shared_ptr<const std::string> text = std::make_shared<const std::string>();
  std::uint64_t generation = 0;          // publications so far
  std::uint64_t scraped_generation = 0;  // the newest publication a scrape was sent
  std::uint64_t scrapes = 0;

  std::pair<std::shared_ptr<const std::string>, std::uint64_t> latest() const {
    std::lock_guard lock(mutex);
    return {text, generation};
  }

  void served(std::uint64_t g) {
    {
      std::lock_guard lock(mutex);
      ++scrapes;
      scraped_generation = std::max(scraped_generation, g);
    }
    scraped.notify_all();
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        log->warn("metrics endpoint: accept failed: {}", ec.message());
        continue;
      }
      asio::co_spawn(ioc, serve(std::move(socket)), log_stray_exception(log, "metrics connection"));
    }
  }

  // One connection, keep-alive: GET (or HEAD) /metrics is the latest publication; / says where
  // the metrics are; anything else is 404.
  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      stream.expires_after(std::chrono::seconds(60));
      http::request_parser<http::empty_body> parser;
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec) break;  // the scraper closed, timed out or sent garbage: nothing to answer
      const auto& req = parser.get();
      const auto target = std::string_view(req.target().data(), req.target().size());
      const auto path = target.substr(0, target.find('?'));
      http::response<http::string_body> res{http::status::ok, req.version()};
      std::uint64_t sent = 0;             // the publication this answer carries
      std::optional<std::size_t> head_length;  // HEAD: the length a GET's body would have
      if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET, HEAD");
      } else if (path == "/metrics") {
        auto [page, g] = latest();
        res.set(http::field::content_type, std::string(prometheus::content_type));
        if (req.method() == http::verb::get) {
          res.body() = *page;
          sent = g;
        } else {
          head_length = page->size();
        }
      } else if (path == "/") {
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = "faultline: this run's Prometheus metrics are at /metrics (docs/metrics.md)\n";
      } else {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = "not found: the metrics are at /metrics\n";
      }
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      if (req.method() == http::verb::head) {  // the headers a GET would get, without the body
        const auto length = head_length.value_or(res.body().size());
        res.body().clear();
        res.content_length(length);
      }
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      if (wec) break;
      if (sent) served(sent);
      if (!res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

metrics_server::metrics_server(const tcp::endpoint& endpoint) : impl_(std::make_unique<impl>(endpoint)) {
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), log_stray_exception(impl_->log, "metrics listener"));
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

metrics_server::~metrics_server() {
  asio::post(impl_->ioc, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->ioc.stop();  // connections still open end with the io_context
  });
  impl_->thread.join();
}

tcp::endpoint metrics_server::local_endpoint() const { return impl_->acceptor.local_endpoint(); }

void metrics_server::publish(std::string text) {
  auto shared = std::make_shared<const std::string>(std::move(text));
  std::lock_guard lock(impl_->mutex);
  impl_->text = std::move(shared);
  ++impl_->generation;
}

bool metrics_server::wait_until_scraped(std::chrono::nanoseconds limit) {
  std::unique_lock lock(impl_->mutex);
  return impl_->scraped.wait_for(lock, limit, [&] { return impl_->scraped_generation >= impl_->generation; });
}

std::uint64_t metrics_server::scrapes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->scrapes;
}

void write_metrics_textfile(const std::filesystem::path& path, const std::string& text) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const auto temporary = dir / fmt::format(".{}.{}.tmp", path.filename().string(), ::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out)
      throw std::runtime_error(fmt::format("--metrics-textfile {}: cannot write {} (does the directory exist and is it "
                                           "writable?)", path.string(), temporary.string()));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    throw std::runtime_error(fmt::format("--metrics-textfile {}: cannot replace it: {}", path.string(), ec.message()));
  }
}

}  // namespace faultline::engine
