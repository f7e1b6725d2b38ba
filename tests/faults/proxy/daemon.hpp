#pragma once
// The `faultline proxy` daemon as a child process for tests: started on a free API port (it
// prints the address it bound), stopped by its PID with SIGTERM (SIGKILL after 5 s), and a
// small blocking HTTP client for its API.

#include "tests/support/command.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace faultline::test {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a program with arguments; stdout and stderr go to `log`. Returns the PID.
inline pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log, const std::vector<std::string>& env = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e) environment.emplace_back(*e);
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Waits for a child; returns its exit code (128 + signal when killed), or -1 on timeout.
inline int wait_for(pid_t pid, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    auto r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -2;
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

class daemon_process {
public:
  explicit daemon_process(std::vector<std::string> extra = {}) {
    dir_ = std::filesystem::temp_directory_path() / ("faultline-proxy-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(dir_);
    std::vector<std::string> argv{faultline_binary(), "proxy", "--api", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = spawn(argv, log());
    const std::string marker = "control API on http://";
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < until) {
      auto text = slurp(log());
      if (auto at = text.find(marker); at != std::string::npos && text.find(' ', at + marker.size()) != std::string::npos) {
        auto start = at + marker.size();
        api = text.substr(start, text.find(' ', start) - start);
        return;
      }
      if (wait_for(pid_, std::chrono::milliseconds(0)) >= 0) {
        pid_ = 0;
        throw std::runtime_error("faultline proxy exited early:\n" + text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    throw std::runtime_error("faultline proxy did not start:\n" + slurp(log()));
  }
  ~daemon_process() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  // SIGTERM, then SIGKILL if it has not exited within 5 s. Returns the exit code.
  int stop() {
    if (!pid_) return exit_;
    ::kill(pid_, SIGTERM);
    exit_ = wait_for(pid_, std::chrono::seconds(5));
    if (exit_ == -1) {
      ::kill(pid_, SIGKILL);
      exit_ = wait_for(pid_, std::chrono::seconds(5));
    }
    pid_ = 0;
    return exit_;
  }
  pid_t pid() const { return pid_; }
  std::filesystem::path log() const { return dir_ / "daemon.log"; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string api;  // "127.0.0.1:PORT"

private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path dir_;
  pid_t pid_ = 0;
  int exit_ = 0;
};

struct http_result {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

inline http_result http(const std::string& address, const std::string& method, const std::string& target, const std::string& body = "",
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
  namespace beast = boost::beast;
  namespace bhttp = beast::http;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::resolver resolver(ioc);
  auto colon = address.rfind(':');
  boost::asio::ip::tcp::socket socket(ioc);
  boost::asio::connect(socket, resolver.resolve(address.substr(0, colon), address.substr(colon + 1)));
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, address);
  req.set(bhttp::field::user_agent, "faultline-test");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST" || method == "PATCH") {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  bhttp::write(socket, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, buffer, res);
  return {res.result_int(), std::string(res[bhttp::field::content_type]), res.body()};
}

}  // namespace faultline::test
