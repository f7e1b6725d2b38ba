#pragma once
// Real Redis, PostgreSQL and nginx servers for integration tests: each fixture starts a fresh
// server on 127.0.0.1 with a free port and a temporary directory (through scripts/redis.sh,
// scripts/postgres.sh and scripts/nginx.sh) and stops it in its destructor, also when a test
// fails. Should the test process die outright, the script's watcher stops the server within a
// second.

#include <cstdint>
#include <string>

namespace faultline::test {

// A server started by one of scripts/*.sh; stopped by PID and its directory removed on destruction.
class script_server {
public:
  script_server(const script_server&) = delete;
  script_server& operator=(const script_server&) = delete;
  ~script_server();

  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }  // "127.0.0.1:PORT"
  int pid() const { return pid_; }
  const std::string& directory() const { return dir_; }

  // Stops the server now (the destructor then does nothing). Idempotent.
  void stop();

protected:
  // Runs `scripts/<script> start --watch <this process> <options>`; throws std::runtime_error
  // with the script's complaint when the server cannot start.
  explicit script_server(std::string script, const std::string& options = "");

private:
  std::string script_;
  std::string host_ = "127.0.0.1";
  std::uint16_t port_ = 0;
  int pid_ = 0;
  std::string dir_;
};

class redis_server : public script_server {
public:
  redis_server() : script_server("redis.sh") {}
};

// Its port speaks TLS only, with a self-signed certificate for 127.0.0.1 (certificate()).
class tls_redis_server : public script_server {
public:
  tls_redis_server() : script_server("redis.sh", "--tls") {}
  std::string certificate() const { return directory() + "/server.crt"; }
};

// Trust authentication: user `postgres`, database `postgres`, no password.
class postgres_server : public script_server {
public:
  postgres_server() : script_server("postgres.sh") {}
  // ssl=on with a self-signed certificate for 127.0.0.1 (certificate()); plaintext still allowed.
  struct with_ssl {};
  explicit postgres_server(with_ssl) : script_server("postgres.sh", "--ssl") {}
  std::string certificate() const { return directory() + "/server.crt"; }
  std::string user() const { return "postgres"; }
  std::string database() const { return "postgres"; }
  // A libpq connection string.
  std::string conninfo() const {
    return "host=" + host() + " port=" + std::to_string(port()) + " user=postgres dbname=postgres connect_timeout=5";
  }
};

// nginx serving static files from directory()/www (GET, HEAD); PUT under /upload/ stores the body
// there. (nginx_server.hpp has the load tests' nginx, which answers every path "ok".)
class nginx_file_server : public script_server {
public:
  nginx_file_server() : script_server("nginx.sh") {}
  // Its port speaks HTTP/2 without TLS (prior knowledge) instead of HTTP/1.1.
  struct with_http2 {};
  explicit nginx_file_server(with_http2) : script_server("nginx.sh", "--http2") {}
  std::string www() const { return directory() + "/www"; }
  std::string url(const std::string& path) const { return "http://" + address() + path; }
};

}  // namespace faultline::test
