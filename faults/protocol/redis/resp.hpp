#pragma once
// RESP, the Redis protocol (RESP2 and RESP3), as the redis session reads it: a command reader
// for what clients send (multibulk arrays of bulk strings, and inline commands), a reply reader
// that finds where each server reply ends without holding its body, and the replies the
// session makes itself. Both readers take bytes as they come, in pieces of any size, and never
// read out of bounds or grow without limit on malformed input (they report `invalid`).

#include "faults/protocol/pattern.hpp"
#include "faults/proxy/chunk.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::protocol::redis {

// Hands on bytes a reader consumed but does not keep.
using byte_sink = std::function<void(std::string_view)>;

// Redis's own limits (PROTO_INLINE_MAX_SIZE, the default proto-max-bulk-len, and the multibulk
// count it accepts): beyond them the server refuses the command, so the reader stops following.
inline constexpr std::size_t max_inline_length = 64u << 10;
inline constexpr std::uint64_t max_bulk_length = 512ull << 20;
inline constexpr std::int64_t max_multibulk_count = 1024 * 1024;

// Reads one client command at a time. Its bytes are kept (raw()) until the command ends or
// `retain_limit` bytes are kept; after release() the rest of it goes to the sink instead.
class command_reader {
public:
  enum class status {
    more,     // all of `data` was taken; the command goes on
    done,     // the command ended (data may hold the next one)
    limit,    // raw() is full: decide with the arguments read so far, release(), and feed again
    invalid,  // not RESP the server accepts: it will answer with an error and close
  };

  explicit command_reader(std::size_t retain_limit = 1u << 20) : retain_limit_(retain_limit) {}

  // Takes bytes from the front of `data`.
  status feed(std::string_view& data, const byte_sink& sink);
  void release() { retaining_ = false; }
  void reset();  // ready for the next command

  const proxy::byte_buffer& raw() const { return raw_; }
  // The arguments read whole so far (all of them once done, unless released early); the first
  // is the command name. An empty command (`*0`, a blank inline line) has none: Redis ignores it.
  const std::vector<std::string>& args() const { return args_; }
  bool retaining() const { return retaining_; }

private:
  enum class state { start, count_line, length_line, data, inline_line };
  void keep(std::string_view bytes, const byte_sink& sink);
  // Collects a line up to LF; true once it is whole (without CR LF). False and `failed_` when
  // it grows past max_length.
  bool line(std::string_view& data, const byte_sink& sink, std::size_t max_length);

  std::size_t retain_limit_;
  state state_ = state::start;
  bool retaining_ = true;
  bool failed_ = false;
  proxy::byte_buffer raw_;
  std::string line_;
  std::vector<std::string> args_;
  std::int64_t count_ = 0;       // arguments announced
  std::int64_t seen_ = 0;        // arguments fully read
  std::uint64_t data_left_ = 0;  // bytes of the current argument and its CR LF still to come
  std::string arg_;              // the current argument, while it fits
  bool arg_kept_ = true;
};

// Splits an inline command as Redis does (sdssplitargs): blanks separate, "double quotes" take
// \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' take \'. Empty on unbalanced quotes.
std::optional<std::vector<std::string>> split_inline(std::string_view line);

// Follows server replies: hands every byte to the sink and says where each top-level value
// ends. RESP3 pushes ('>') are values of their own that answer no command; an attribute ('|')
// belongs to the value after it.
class reply_reader {
public:
  enum class status { more, reply, push, invalid };

  status feed(std::string_view& data, const byte_sink& sink);
  // The type byte of the top-level value being read or just ended: '+', '-', '$', '*', '%',
  // '>', ... (for a value after an attribute, its own type).
  char type() const { return type_; }
  bool in_value() const { return started_; }

private:
  struct open_aggregate {
    std::int64_t left;  // elements still to come
    bool attribute;     // an attribute: it does not count as an element of its parent
  };
  bool line(std::string_view& data, const byte_sink& sink);
  std::optional<status> element_ended();

  std::vector<open_aggregate> open_;
  std::string line_;
  std::uint64_t bulk_left_ = 0;
  bool in_bulk_ = false;
  bool started_ = false;
  bool top_attribute_ = false;  // the top-level value so far was an attribute
  char type_ = 0;
};

// Replies the session makes. `resp` is the connection's protocol version (2 or 3).
proxy::byte_buffer null_reply(int resp);                      // $-1 (RESP2) or _ (RESP3)
proxy::byte_buffer integer_reply(std::int64_t v);             // :v
proxy::byte_buffer error_reply(std::string_view line);        // -line
proxy::byte_buffer empty_bulk_reply();                        // $0
proxy::byte_buffer array_header(char type, std::size_t n);    // *n, %n, ~n
proxy::byte_buffer command(const std::vector<std::string>& args);  // a multibulk command

using protocol::glob_match;  // keys patterns are Redis globs (faults/protocol/pattern.hpp)

}  // namespace faultline::protocol::redis
