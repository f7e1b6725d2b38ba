#pragma once
// Working inside a named network namespace (/run/netns/<name>, as `ip netns` names it): run a
// program there with an argument vector (fork, setns, exec; no shell), or run a function on a
// short-lived thread that entered it (sockets keep the namespace they were created in).

#include "faults/fault.hpp"

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace faultline::faults::userspace {

// An open /run/netns/<name>, or nothing for faultline's own namespace. Throws fault_error naming
// `ip netns add` when it does not exist.
class netns_handle {
public:
  explicit netns_handle(const std::string& name);
  // A new, empty network namespace that lives as long as the handle (for capability probes).
  static netns_handle scratch();
  netns_handle(netns_handle&& other) noexcept : fd_(std::exchange(other.fd_, -1)), name_(std::move(other.name_)) {}
  netns_handle& operator=(netns_handle&&) = delete;
  ~netns_handle();

  // Moves the calling thread into the namespace; returns an error text, empty on success.
  std::string enter() const;
  const std::string& name() const { return name_; }

private:
  netns_handle(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  int fd_ = -1;
  std::string name_;
};

// Runs `fn` on a new thread inside `ns` and returns its result; exceptions propagate.
template <typename Fn>
auto in_netns(const netns_handle& ns, Fn fn) -> decltype(fn()) {
  std::exception_ptr failure;
  using result_type = decltype(fn());
  if constexpr (std::is_void_v<result_type>) {
    std::thread t([&] {
      try {
        if (auto why = ns.enter(); !why.empty()) throw fault_error(why);
        fn();
      } catch (...) {
        failure = std::current_exception();
      }
    });
    t.join();
    if (failure) std::rethrow_exception(failure);
  } else {
    std::optional<result_type> result;
    std::thread t([&] {
      try {
        if (auto why = ns.enter(); !why.empty()) throw fault_error(why);
        result.emplace(fn());
      } catch (...) {
        failure = std::current_exception();
      }
    });
    t.join();
    if (failure) std::rethrow_exception(failure);
    return std::move(*result);
  }
}

struct program_result {
  int exit_code = -1;  // -1: killed (timeout) or could not start
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0; }
  std::string error_text() const;  // stderr, else stdout, trimmed: for messages
};

// Runs argv[0] (an absolute path) with its arguments inside `ns`, feeding `input` on stdin.
// Killed after `timeout`. Throws fault_error only when it cannot start.
program_result run_program(const netns_handle& ns, const std::vector<std::string>& argv, const std::string& input = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));
// The same in the namespace named `netns` (faultline's own when empty).
program_result run_program(const std::string& netns, const std::vector<std::string>& argv, const std::string& input = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The absolute path of a program in /usr/sbin, /sbin, /usr/bin, /bin or $PATH; empty when none.
std::string find_program(const std::string& name);

// `iptables -w -A X` as one line, for logs and messages.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace faultline::faults::userspace
