// faultline-payments: the demo's payments API, which the shop charges on checkout (docs/shop.md).
// POST /payments authorises a payment, GET /health answers; HTTP/1.1 keep-alive, one thread, one
// coroutine per connection. It has no faults of its own: faultline's http proxy in front of it
// rate-limits, delays or aborts its calls.

#include "examples/shop/config.hpp"
#include "examples/shop/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace faultline::shop;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct payments_config {
  address listen{"127.0.0.1", 8081};
  std::string port_file;
  std::chrono::nanoseconds latency{0};  // time each payment takes to authorise
};

payments_config parse_flags(int argc, char** argv) {
  payments_config c;
  CLI::App app{"faultline-payments: the demo payments API that faultline-shop charges on checkout",
               "faultline-payments"};
  app.set_version_flag("--version", "faultline-payments 0.1.0");
  std::string listen = "127.0.0.1:8081", latency = "0";
  app.add_option("--listen", listen, "address to serve HTTP on (port 0: any free port, see --port-file)")
      ->capture_default_str();
  app.add_option("--port-file", c.port_file, "write the bound port to this file once listening");
  app.add_option("--latency", latency, "time each payment takes to authorise, e.g. 20ms")->capture_default_str();
  parse_flags_into(app, argc, argv);
  c.listen = parse_address("--listen", listen);
  c.latency = parse_duration("--latency", latency);
  return c;
}

http::response<http::string_body> answer(const http::request<http::string_body>& request, http::status status,
                                         const nlohmann::json& body) {
  http::response<http::string_body> response{status, request.version()};
  response.set(http::field::server, "faultline-payments");
  response.set(http::field::content_type, "application/json");
  response.body() = body.dump();
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

class payments_server {
public:
  payments_server(asio::io_context& context, const payments_config& config) : acceptor_(context), config_(config) {}

  tcp::endpoint listen(const tcp::endpoint& where) {
    acceptor_.open(where.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(where);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    return acceptor_.local_endpoint();
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (!acceptor_.is_open()) co_return;
      if (ec) continue;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), log_stray_exception("payments", "connection"));
    }
  }

  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

  std::uint64_t authorized() const { return authorized_; }

private:
  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      stream.expires_after(std::chrono::seconds(30));
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);
      if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple); ec) break;
      const auto request = parser.release();
      const std::string_view target = request.target().substr(0, request.target().find('?'));
      http::response<http::string_body> response;
      if (target == "/payments" && request.method() == http::verb::post) {
        const auto body = nlohmann::json::parse(request.body(), nullptr, false);
        if (!body.is_object()) {
          response = answer(request, http::status::bad_request, {{"error", "the body must be a JSON object"}});
        } else {
          if (config_.latency.count() > 0) {
            asio::steady_timer timer(stream.get_executor(), config_.latency);
            co_await timer.async_wait(use_tuple);
          }
          const auto id = ++authorized_;
          response = answer(request, http::status::created,
                            {{"payment_id", fmt::format("pay-{}", id)}, {"status", "authorized"}});
        }
      } else if (target == "/health" && request.method() == http::verb::get) {
        response = answer(request, http::status::ok, {{"status", "ok"}, {"authorized", authorized_}});
      } else {
        response = answer(request, http::status::not_found,
                          {{"error", "faultline-payments serves POST /payments and GET /health"}});
      }
      stream.expires_after(std::chrono::seconds(30));
      if (auto [ec, n] = co_await http::async_write(stream, response, use_tuple); ec || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  tcp::acceptor acceptor_;
  const payments_config& config_;
  std::uint64_t authorized_ = 0;  // one thread: no atomics
};

int run(const payments_config& config) {
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context context(1);
  tcp::endpoint where;
  try {
    where = tcp::endpoint(asio::ip::make_address(config.listen.host), config.listen.port);
  } catch (const boost::system::system_error&) {
    throw flag_error(fmt::format("--listen: '{}' is not an IP address; write e.g. 127.0.0.1:8081", config.listen.host));
  }
  payments_server server(context, config);
  tcp::endpoint bound;
  try {
    bound = server.listen(where);
  } catch (const boost::system::system_error& e) {
    throw flag_error(fmt::format("--listen: cannot listen on {}:{}: {}", config.listen.host, config.listen.port,
                                 e.code().message()));
  }
  if (!config.port_file.empty()) {
    // Written whole, then renamed, so a script polling for it never reads half a number.
    const std::string partial = config.port_file + ".partial";
    std::ofstream(partial) << bound.port() << '\n';
    if (std::rename(partial.c_str(), config.port_file.c_str()) != 0)
      throw flag_error(fmt::format("--port-file: cannot write {}", config.port_file));
  }
  asio::co_spawn(context, server.accept_loop(), log_stray_exception("payments", "accept loop"));
  log_line("payments", fmt::format("listening address={}:{} latency_ms={} pid={}", bound.address().to_string(),
                                   bound.port(),
                                   std::chrono::duration_cast<std::chrono::milliseconds>(config.latency).count(),
                                   getpid()));
  asio::signal_set signals(context, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    log_line("payments", fmt::format("stopping signal={} authorized={}", signal, server.authorized()));
    server.stop();
    context.stop();
  });
  context.run();
  log_line("payments", "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_flags(argc, argv));
  } catch (const flag_error& e) {
    std::cerr << "faultline-payments: " << e.what() << " (see faultline-payments --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "faultline-payments: internal error: " << e.what() << '\n';
    return 4;
  }
}
