#pragma once
// A small Beast HTTP/1.1 server on 127.0.0.1 (a free port) for probe and load tests: handlers
// decide each reply, and the server can stall all replies for a while, delay one, or accept
// connections and never answer. Runs on a tcp_test_server (its own io_context and thread).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace faultline::test {

struct http_test_request {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};

struct http_test_reply {
  unsigned status = 200;
  std::string body = "ok";
  std::map<std::string, std::string> headers;
  std::chrono::nanoseconds delay{};  // wait this long before answering
  bool hang = false;                 // never answer (the client must time out)
  bool close = false;                // close the connection after this reply (Connection: close)
  bool drop = false;                 // close it after this reply without saying so (idle timeout)
};

class http_test_server {
public:
  using handler = std::function<http_test_reply(const http_test_request&)>;

  // Answers 200 "ok" until told otherwise.
  http_test_server();
  explicit http_test_server(handler h);
  ~http_test_server();
  http_test_server(const http_test_server&) = delete;
  http_test_server& operator=(const http_test_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& target = "/") const;

  void set_handler(handler h);
  // Every reply not yet sent (in flight or to come) waits until `d` from now has passed.
  void stall_for(std::chrono::nanoseconds d);
  // Accept connections but never read from them or answer.
  void set_silent(bool silent) { silent_ = silent; }

  std::uint64_t requests() const { return requests_; }
  std::uint64_t connections() const { return connections_; }

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<bool> silent_{false};
  std::atomic<std::int64_t> stall_until_ns_{0};  // steady_clock, since epoch
  std::mutex handler_mutex_;
  handler handler_;

  http_test_reply reply_to(const http_test_request& r);
};

}  // namespace faultline::test
