#include "tests/support/nginx_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace faultline::test {
namespace {

const char* const nginx_binary = "/usr/sbin/nginx";

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a free loopback port");
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

void write_config(const std::string& dir, std::uint16_t port) {
  std::ofstream f(dir + "/nginx.conf");
  f << "worker_processes 1;\n"
    << "pid " << dir << "/nginx.pid;\n"
    << "error_log " << dir << "/error.log warn;\n"
    << "daemon off;\n"
    << "events { worker_connections 4096; }\n"
    << "http {\n"
    << "  log_format counts '$request_method $request_uri $status';\n"
    << "  access_log " << dir << "/access.log counts;\n"
    << "  keepalive_requests 10000000;\n"
    << "  client_body_temp_path " << dir << "/body;\n"
    << "  proxy_temp_path " << dir << "/proxy;\n"
    << "  fastcgi_temp_path " << dir << "/fastcgi;\n"
    << "  uwsgi_temp_path " << dir << "/uwsgi;\n"
    << "  scgi_temp_path " << dir << "/scgi;\n"
    << "  server {\n"
    << "    listen 127.0.0.1:" << port << ";\n"
    << "    location / { default_type text/plain; return 200 \"ok\\n\"; }\n"
    << "  }\n"
    << "}\n";
}

}  // namespace

nginx_server::nginx_server() {
  if (::access(nginx_binary, X_OK) != 0)
    throw std::runtime_error("nginx is not installed (Debian package nginx-light; scripts/setup.sh installs it)");
  char pattern[] = "/tmp/faultline-test-nginx.XXXXXX";
  if (!::mkdtemp(pattern)) throw std::runtime_error("cannot make a temporary directory for nginx");
  dir_ = pattern;
  // Another process may take the port between our probe and nginx's bind: try a few.
  for (int attempt = 0; attempt < 5 && pid_ == 0; ++attempt) {
    port_ = free_port();
    write_config(dir_, port_);
    const std::string conf = dir_ + "/nginx.conf";
    std::vector<std::string> args{nginx_binary, "-p", dir_, "-c", conf};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, nginx_binary, nullptr, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start nginx");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (accepts(port_)) {
        pid_ = pid;
        break;
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) break;  // exited: the port was taken, try another
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  if (pid_ == 0) {
    std::ifstream err(dir_ + "/error.log");
    std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("nginx did not start: " + text);
  }
}

nginx_server::~nginx_server() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string nginx_server::url(const std::string& target) const {
  return "http://127.0.0.1:" + std::to_string(port_) + target;
}

void nginx_server::stop() {
  if (pid_ == 0) return;
  ::kill(pid_, SIGQUIT);  // graceful: finish the requests, flush the log
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = 0;
}

std::vector<std::string> nginx_server::access_log() const {
  std::ifstream in(dir_ + "/access.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace faultline::test
