#pragma once
// Debian's nginx (package nginx-light) for load tests: started in a temporary directory with its
// own configuration on a free loopback port, one worker, `return 200 "ok"` for every path, and an
// access log of "METHOD URI STATUS" lines that the test can count. Stopped by PID (and the
// directory removed) in the destructor, also when a test fails. Throws when nginx is missing, so a
// test cannot pass without it.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace faultline::test {

class nginx_server {
public:
  nginx_server();
  ~nginx_server();
  nginx_server(const nginx_server&) = delete;
  nginx_server& operator=(const nginx_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& target = "/") const;

  // Stops nginx gracefully (it finishes its requests and flushes its log). Idempotent.
  void stop();
  // The access log, one "METHOD URI STATUS" per request; call after stop() for a complete log.
  std::vector<std::string> access_log() const;

private:
  std::string dir_;
  std::uint16_t port_ = 0;
  int pid_ = 0;
};

}  // namespace faultline::test
