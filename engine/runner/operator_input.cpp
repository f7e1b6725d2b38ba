#include "engine/runner/operator_input.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/this_coro.hpp>
#include <termios.h>
#include <unistd.h>

namespace faultline::engine {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

// Puts a terminal in non-canonical, no-echo mode for its lifetime.
class raw_terminal {
public:
  explicit raw_terminal(int fd) : fd_(fd) {
    if (!::isatty(fd_) || ::tcgetattr(fd_, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    active_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
  }
  ~raw_terminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  raw_terminal(const raw_terminal&) = delete;
  raw_terminal& operator=(const raw_terminal&) = delete;

private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

}  // namespace

asio::awaitable<void> read_operator_keys(operator_keys keys) {
  const int fd = ::dup(STDIN_FILENO);
  if (fd < 0) co_return;
  raw_terminal raw(fd);
  asio::posix::stream_descriptor input(co_await asio::this_coro::executor, fd);
  keys.log("game-day keys: [e] end the manual faults  [a] abort and revert everything");
  char key = 0;
  while (!keys.finished->is_set()) {
    auto result = co_await (input.async_read_some(asio::buffer(&key, 1), asio::as_tuple(asio::use_awaitable)) ||
                            keys.finished->wait());
    if (result.index() == 1) break;
    auto [ec, n] = std::get<0>(result);
    if (ec || n == 0) break;  // stdin closed: keep running without keys
    if (key == 'e' || key == 'E') {
      if (!keys.manual_end->is_set()) keys.log("operator: ending the manual faults");
      keys.manual_end->set();
    } else if (key == 'a' || key == 'A') {
      keys.abort("aborted by the operator");
    }
  }
}

}  // namespace faultline::engine
