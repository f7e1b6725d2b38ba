#include "faults/protocol/redis/resp.hpp"

#include <charconv>
#include <cctype>

namespace faultline::protocol::redis {
namespace {

// A whole signed decimal number, as Redis's string2ll reads it.
std::optional<std::int64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

void append(proxy::byte_buffer& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

proxy::byte_buffer line_reply(char type, std::string_view text) {
  proxy::byte_buffer out;
  out.push_back(type);
  append(out, text);
  append(out, "\r\n");
  return out;
}

}  // namespace

// ---- command_reader ------------------------------------------------------------------------

void command_reader::reset() {
  state_ = state::start;
  retaining_ = true;
  failed_ = false;
  raw_.clear();
  line_.clear();
  args_.clear();
  count_ = seen_ = 0;
  data_left_ = 0;
  arg_.clear();
  arg_kept_ = true;
}

void command_reader::keep(std::string_view bytes, const byte_sink& sink) {
  if (retaining_) append(raw_, bytes);
  else if (!bytes.empty()) sink(bytes);
}

bool command_reader::line(std::string_view& data, const byte_sink& sink, std::size_t max_length) {
  auto lf = data.find('\n');
  auto n = lf == std::string_view::npos ? data.size() : lf + 1;
  if (line_.size() + n > max_length + 2) {
    failed_ = true;
    return false;
  }
  line_.append(data.substr(0, n));
  keep(data.substr(0, n), sink);
  data.remove_prefix(n);
  if (lf == std::string_view::npos) return false;
  line_.pop_back();  // LF
  return true;
}

command_reader::status command_reader::feed(std::string_view& data, const byte_sink& sink) {
  while (!data.empty()) {
    if (retaining_ && raw_.size() >= retain_limit_ && state_ == state::data) return status::limit;
    switch (state_) {
      case state::start:
        state_ = data.front() == '*' ? state::count_line : state::inline_line;
        line_.clear();
        break;
      case state::inline_line: {
        if (!line(data, sink, max_inline_length)) return failed_ ? status::invalid : status::more;
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        auto split = split_inline(line_);
        if (!split) return status::invalid;  // Redis: "unbalanced quotes in request"
        args_ = std::move(*split);
        return status::done;  // no arguments: an empty line, which Redis skips
      }
      case state::count_line: {
        if (!line(data, sink, max_inline_length)) return failed_ ? status::invalid : status::more;
        if (line_.empty() || line_.back() != '\r') return status::invalid;
        line_.pop_back();
        auto n = number(std::string_view(line_).substr(1));
        if (!n || *n > max_multibulk_count) return status::invalid;
        if (*n <= 0) return status::done;  // an empty command: Redis ignores it
        count_ = *n;
        state_ = state::length_line;
        line_.clear();
        break;
      }
      case state::length_line: {
        if (!line(data, sink, max_inline_length)) return failed_ ? status::invalid : status::more;
        if (line_.empty() || line_.front() != '$' || line_.back() != '\r') return status::invalid;
        line_.pop_back();
        auto n = number(std::string_view(line_).substr(1));
        if (!n || *n < 0 || static_cast<std::uint64_t>(*n) > max_bulk_length) return status::invalid;
        data_left_ = static_cast<std::uint64_t>(*n) + 2;
        arg_.clear();
        arg_kept_ = static_cast<std::uint64_t>(*n) <= retain_limit_;
        state_ = state::data;
        line_.clear();
        break;
      }
      case state::data: {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(data_left_, data.size()));
        if (retaining_) n = std::min(n, std::max<std::size_t>(1, retain_limit_ - std::min(retain_limit_, raw_.size())));
        auto bytes = data.substr(0, n);
        if (arg_kept_) arg_.append(bytes);
        keep(bytes, sink);
        data.remove_prefix(n);
        data_left_ -= n;
        if (data_left_ > 0) break;
        if (arg_.size() < 2 || arg_.compare(arg_.size() - 2, 2, "\r\n") != 0) arg_kept_ = false;
        if (arg_kept_) {
          arg_.resize(arg_.size() - 2);
          args_.push_back(std::move(arg_));
        } else {
          args_.push_back({});  // too long to keep: its place is known, its text is not
        }
        arg_.clear();
        if (++seen_ == count_) return status::done;
        state_ = state::length_line;
        break;
      }
    }
  }
  return status::more;
}

std::optional<std::vector<std::string>> split_inline(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto blank = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0'; };
  while (true) {
    while (i < line.size() && blank(line[i])) ++i;
    if (i >= line.size()) return out;
    std::string current;
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      if (in_double) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x' && hex(line[i + 2]) >= 0 && hex(line[i + 3]) >= 0) {
          current.push_back(static_cast<char>(hex(line[i + 2]) * 16 + hex(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          char c = line[i];
          switch (c) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'a': c = '\a'; break;
            default: break;
          }
          current.push_back(c);
        } else if (line[i] == '"') {
          // A closing quote must be followed by a blank or the end.
          if (i + 1 < line.size() && !blank(line[i + 1])) return std::nullopt;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else if (in_single) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
          current.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < line.size() && !blank(line[i + 1])) return std::nullopt;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else {
        if (i >= line.size()) {
          done = true;
          break;
        }
        switch (line[i]) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0': done = true; break;
          case '"': in_double = true; break;
          case '\'': in_single = true; break;
          default: current.push_back(line[i]); break;
        }
      }
      if (i < line.size()) ++i;
    }
    out.push_back(std::move(current));
  }
}

// ---- reply_reader --------------------------------------------------------------------------

namespace {
constexpr std::size_t max_reply_line = 1u << 20;  // simple strings, errors, numbers: never this long
constexpr std::size_t max_depth = 512;
}  // namespace

bool reply_reader::line(std::string_view& data, const byte_sink& sink) {
  auto lf = data.find('\n');
  auto n = lf == std::string_view::npos ? data.size() : lf + 1;
  line_.append(data.substr(0, n));
  sink(data.substr(0, n));
  data.remove_prefix(n);
  return lf != std::string_view::npos;
}

// After a whole element: closes the aggregates it completes. A status when the top-level value
// ended, nothing while it goes on.
std::optional<reply_reader::status> reply_reader::element_ended() {
  while (!open_.empty()) {
    auto& top = open_.back();
    if (--top.left > 0) return std::nullopt;
    bool attribute = top.attribute;
    open_.pop_back();
    if (attribute) return std::nullopt;  // the element it annotates comes next
  }
  if (top_attribute_) {  // the attribute ended; the reply it belongs to follows
    top_attribute_ = false;
    return std::nullopt;
  }
  started_ = false;
  return type_ == '>' ? status::push : status::reply;
}

reply_reader::status reply_reader::feed(std::string_view& data, const byte_sink& sink) {
  while (!data.empty()) {
    if (in_bulk_) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(bulk_left_, data.size()));
      sink(data.substr(0, n));
      data.remove_prefix(n);
      bulk_left_ -= n;
      if (bulk_left_ > 0) return status::more;
      in_bulk_ = false;
      if (auto s = element_ended()) return *s;
      continue;
    }
    if (!line(data, sink)) {
      if (line_.size() > max_reply_line) return status::invalid;
      return status::more;
    }
    std::string_view l(line_);
    if (l.size() < 3 || l[l.size() - 2] != '\r') return status::invalid;  // a type byte, then CR LF
    l.remove_suffix(2);
    const char type = l.front();
    auto n = number(l.substr(1));
    const bool top = open_.empty();
    if (top && !top_attribute_) {
      started_ = true;
      type_ = type;
    } else if (top && top_attribute_ && type != '|') {
      type_ = type;
    }
    line_.clear();
    switch (type) {
      case '+':
      case '-':
      case ':':
      case '_':
      case ',':
      case '#':
      case '(':
        break;
      case '$':
      case '!':
      case '=':
        if (!n || *n < -1 || (*n == -1 && type != '$') || static_cast<std::uint64_t>(std::max<std::int64_t>(*n, 0)) > (1ull << 40))
          return status::invalid;
        if (*n >= 0) {
          in_bulk_ = true;
          bulk_left_ = static_cast<std::uint64_t>(*n) + 2;
          continue;
        }
        break;
      case '*':
      case '%':
      case '~':
      case '>':
      case '|': {
        if (!n || *n < -1 || (*n == -1 && type != '*') || *n > (1ll << 40)) return status::invalid;
        if (type == '>' && !top) return status::invalid;  // pushes are top-level only
        const std::int64_t elements = (type == '%' || type == '|') ? *n * 2 : *n;
        if (elements > 0) {
          if (open_.size() >= max_depth) return status::invalid;
          if (type == '|' && top) top_attribute_ = true;
          open_.push_back({elements, type == '|' && !top});
          continue;
        }
        if (type == '|') {
          if (top) continue;  // an empty attribute: the reply follows
          continue;           // inside an aggregate it is no element either
        }
        break;
      }
      default:
        return status::invalid;  // streamed strings (`$?`) and anything unknown
    }
    if (auto s = element_ended()) return *s;
  }
  return status::more;
}

// ---- replies -------------------------------------------------------------------------------

proxy::byte_buffer null_reply(int resp) { return resp >= 3 ? line_reply('_', "") : line_reply('$', "-1"); }
proxy::byte_buffer integer_reply(std::int64_t v) { return line_reply(':', std::to_string(v)); }
proxy::byte_buffer error_reply(std::string_view line) { return line_reply('-', line); }
proxy::byte_buffer empty_bulk_reply() { return line_reply('$', "0\r\n"); }
proxy::byte_buffer array_header(char type, std::size_t n) { return line_reply(type, std::to_string(n)); }

proxy::byte_buffer command(const std::vector<std::string>& args) {
  proxy::byte_buffer out = array_header('*', args.size());
  for (const auto& a : args) {
    auto head = line_reply('$', std::to_string(a.size()));
    out.insert(out.end(), head.begin(), head.end());
    append(out, a);
    append(out, "\r\n");
  }
  return out;
}

}  // namespace faultline::protocol::redis
