// A small service with a circuit breaker of known thresholds, for the runner's end-to-end test.
//
//   breaker_service --upstream HOST:PORT --ports-file F [--call-timeout-ms 100] [--failures 3] [--open-ms 1500]
//
// It listens on two free loopback ports and writes "http=<port> echo=<port>" to F:
// - echo: answers each line with the same line (the dependency; the test puts a proxy in front).
// - http: GET / calls the dependency at --upstream (a new connection, "ping\n", the echo back
//   within --call-timeout-ms) through the breaker and answers 200, 502 (call failed) or 503
//   (breaker open, without calling). GET /metrics gives `test_breaker_state` 0 closed, 1 open,
//   2 half-open.
// The breaker opens after --failures consecutive failed calls, lets one trial call through
// --open-ms after it opened, and closes when that call succeeds (re-opens when it fails).
// Every transition is logged on stdout as "<unix ms> breaker <from>-><to>": the ground truth the
// test compares faultline's measurements with.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct options {
  std::string upstream_host = "127.0.0.1";
  unsigned short upstream_port = 0;
  std::string ports_file;
  std::chrono::milliseconds call_timeout{100};
  int failures = 3;
  std::chrono::milliseconds open_for{1500};
};

const char* state_name(int state) { return state == 0 ? "closed" : state == 1 ? "open" : "half_open"; }

class breaker {
public:
  explicit breaker(const options& o) : failures_to_open_(o.failures), open_for_(o.open_for) {}

  // Whether this request may call the dependency; moves open -> half_open when the wait is over.
  bool allow() {
    std::lock_guard lock(mutex_);
    if (state_ == 0) return true;
    if (state_ == 1 && std::chrono::steady_clock::now() - opened_at_ >= open_for_) {
      move_to(2);
      trial_running_ = true;
      return true;
    }
    return false;  // open, or half-open with its one trial call already running
  }

  void record(bool ok) {
    std::lock_guard lock(mutex_);
    if (state_ == 2 && trial_running_) {
      trial_running_ = false;
      if (ok) {
        failures_ = 0;
        move_to(0);
      } else {
        open();
      }
      return;
    }
    if (state_ != 0) return;  // a call that started before the breaker opened
    failures_ = ok ? 0 : failures_ + 1;
    if (failures_ >= failures_to_open_) open();
  }

  int state() {
    std::lock_guard lock(mutex_);
    return state_;
  }

private:
  void open() {
    opened_at_ = std::chrono::steady_clock::now();
    failures_ = 0;
    move_to(1);
  }

  void move_to(int next) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::cout << fmt::format("{} breaker {}->{}\n", ms, state_name(state_), state_name(next)) << std::flush;
    state_ = next;
  }

  std::mutex mutex_;
  int state_ = 0;
  int failures_ = 0;
  bool trial_running_ = false;
  std::chrono::steady_clock::time_point opened_at_;
  const int failures_to_open_;
  const std::chrono::milliseconds open_for_;
};

// One call to the dependency: connect, send a line, read it back, all within the call timeout.
bool call_dependency(const options& o) {
  asio::io_context io;
  tcp::socket socket(io);
  asio::streambuf reply;
  bool ok = false;
  asio::steady_timer deadline(io, o.call_timeout);
  deadline.async_wait([&](boost::system::error_code ec) {
    if (!ec) socket.close();
  });
  socket.async_connect({asio::ip::make_address(o.upstream_host), o.upstream_port}, [&](boost::system::error_code ec) {
    if (ec) {
      deadline.cancel();
      return;
    }
    asio::async_write(socket, asio::buffer("ping\n", 5), [&](boost::system::error_code wec, std::size_t) {
      if (wec) {
        deadline.cancel();
        return;
      }
      asio::async_read_until(socket, reply, '\n', [&](boost::system::error_code rec, std::size_t) {
        ok = !rec;
        deadline.cancel();
      });
    });
  });
  io.run();
  return ok;
}

void serve_http(tcp::socket socket, const options& o, breaker& b) {
  boost::beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request<http::string_body> request;
    http::read(socket, buffer, request, ec);
    if (ec) return;
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(request.keep_alive());
    if (request.target() == "/metrics") {
      response.result(http::status::ok);
      response.body() = fmt::format("# TYPE test_breaker_state gauge\ntest_breaker_state {}\n", b.state());
    } else if (!b.allow()) {
      response.result(http::status::service_unavailable);
      response.body() = "breaker open\n";
    } else {
      const bool ok = call_dependency(o);
      b.record(ok);
      response.result(ok ? http::status::ok : http::status::bad_gateway);
      response.body() = ok ? "ok\n" : "dependency failed\n";
    }
    response.prepare_payload();
    http::write(socket, response, ec);
    if (ec || !request.keep_alive()) return;
  }
}

void serve_echo(tcp::socket socket) {
  asio::streambuf buffer;
  boost::system::error_code ec;
  for (;;) {
    const auto n = asio::read_until(socket, buffer, '\n', ec);
    if (ec) return;
    asio::write(socket, asio::buffer(buffer.data(), n), ec);
    if (ec) return;
    buffer.consume(n);
  }
}

template <typename Serve>
void accept_forever(tcp::acceptor& acceptor, Serve serve) {
  for (;;) {
    tcp::socket socket(acceptor.get_executor());
    acceptor.accept(socket);
    std::thread([s = std::move(socket), serve]() mutable { serve(std::move(s)); }).detach();
  }
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--upstream") {
      const auto colon = value.rfind(':');
      o.upstream_host = value.substr(0, colon);
      o.upstream_port = static_cast<unsigned short>(std::stoi(value.substr(colon + 1)));
    } else if (key == "--ports-file") {
      o.ports_file = value;
    } else if (key == "--call-timeout-ms") {
      o.call_timeout = std::chrono::milliseconds(std::stoi(value));
    } else if (key == "--failures") {
      o.failures = std::stoi(value);
    } else if (key == "--open-ms") {
      o.open_for = std::chrono::milliseconds(std::stoi(value));
    } else {
      throw std::invalid_argument("unknown option " + key);
    }
  }
  if (o.upstream_port == 0 || o.ports_file.empty()) throw std::invalid_argument("--upstream and --ports-file are required");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(argc, argv);
    breaker b(o);
    asio::io_context io;
    const auto loopback = asio::ip::make_address("127.0.0.1");
    tcp::acceptor http_acceptor(io, {loopback, 0});
    tcp::acceptor echo_acceptor(io, {loopback, 0});
    {
      std::ofstream ports(o.ports_file + ".tmp");
      ports << "http=" << http_acceptor.local_endpoint().port() << " echo=" << echo_acceptor.local_endpoint().port()
            << "\n";
    }
    std::rename((o.ports_file + ".tmp").c_str(), o.ports_file.c_str());
    std::thread([&] { accept_forever(echo_acceptor, [](tcp::socket s) { serve_echo(std::move(s)); }); }).detach();
    accept_forever(http_acceptor, [&](tcp::socket s) { serve_http(std::move(s), o, b); });
  } catch (const std::exception& e) {
    std::cerr << "breaker_service: " << e.what() << "\n";
    return 2;
  }
}
