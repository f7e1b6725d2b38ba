#pragma once
// What a protocol session sends toward the client, in order: server replies it passes on, replies
// it made up, the end of the stream, a cut of the connection. A piece may be held until a time
// (a delay toxic); no piece overtakes one queued before it, so pipelined replies keep their
// order. A piece held for a toxic that is gone (removed or updated) is released at once, and
// while too much is held the session stops reading from the server.

#include "faults/proxy/protocol.hpp"

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>

namespace faultline::protocol {

class reply_queue {
public:
  using holder_ptr = std::shared_ptr<const proxy::toxic_config>;

  // Held bytes above which reading from the server pauses, and below which it resumes.
  static constexpr std::size_t pause_above = 4u << 20;
  static constexpr std::size_t resume_below = 1u << 20;

  // Bytes for the client, due at `at` (or at once); `holder` is the toxic that set `at`.
  // Consecutive bytes with the same time and holder gather into one piece, queued by flush()
  // (the session calls it at the end of each call) or as soon as the time or holder changes.
  void push(proxy::session_io& io, std::string_view bytes, proxy::time_point at = {}, const holder_ptr& holder = nullptr);
  void flush(proxy::session_io& io);
  void push_end(proxy::session_io& io);              // the server closed its sending side
  void push_cut(proxy::session_io& io, bool reset);  // close (FIN) or reset (RST) the connection
  // The session cut the connection itself (io.reset() or io.close()): nothing goes out any more.
  void abandon();

  // Releases what was held for toxics no longer in io.message_toxics().
  void release_orphans(proxy::session_io& io);

  std::size_t held_bytes() const { return bytes_; }
  bool empty() const { return pieces_.empty(); }
  bool cut() const { return cut_; }  // the connection is being closed or reset: send nothing more

private:
  enum class kind { bytes, end, close, reset };
  struct piece {
    kind what = kind::bytes;
    proxy::byte_buffer bytes;
    proxy::time_point at{};
    std::shared_ptr<const proxy::toxic_config> holder;
  };

  void queue(proxy::session_io& io, proxy::byte_buffer bytes, proxy::time_point at, holder_ptr holder);
  void add(proxy::session_io& io, piece p);
  void pump(proxy::session_io& io);
  void flow_control(proxy::session_io& io);

  proxy::byte_buffer gathered_;  // pushed in this call, not queued yet
  proxy::time_point gathered_at_{};
  holder_ptr gathered_holder_;
  std::deque<piece> pieces_;
  std::size_t bytes_ = 0;
  std::optional<proxy::time_point> wake_;  // the earliest call_at still pending
  bool paused_ = false;
  bool cut_ = false;  // the connection was cut: nothing more goes out
};

// Byte buffers as text, for the sessions that frame messages in them.
inline void append(proxy::byte_buffer& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }
inline std::string_view view(const proxy::byte_buffer& b) { return {b.data(), b.size()}; }

// Sends what a session gathered for the server during one call, unless the connection is being cut.
void send_to_server(proxy::session_io& io, proxy::byte_buffer& pending, bool cut);

}  // namespace faultline::protocol
