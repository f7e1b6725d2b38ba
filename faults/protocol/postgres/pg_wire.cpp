#include "faults/protocol/postgres/pg_wire.hpp"

namespace faultline::protocol::postgres {

std::uint32_t read_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t(u[0]) << 24) | (std::uint32_t(u[1]) << 16) | (std::uint32_t(u[2]) << 8) | std::uint32_t(u[3]);
}

void append_u32(proxy::byte_buffer& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::optional<typed_header> read_typed_header(std::string_view five_bytes) {
  if (five_bytes.size() < 5) return std::nullopt;
  auto length = read_u32(five_bytes.data() + 1);
  if (length < 4) return std::nullopt;
  return typed_header{five_bytes[0], length - 4};
}

std::optional<std::string_view> body_reader::cstring() {
  auto end = body_.find('\0', at_);
  if (end == std::string_view::npos) return std::nullopt;
  auto s = body_.substr(at_, end - at_);
  at_ = end + 1;
  return s;
}

std::optional<char> body_reader::byte() {
  if (at_ >= body_.size()) return std::nullopt;
  return body_[at_++];
}

namespace {

void append(proxy::byte_buffer& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

// Writes the length field (which counts itself) once the body is in place.
void finish(proxy::byte_buffer& out, std::size_t length_at) {
  auto length = static_cast<std::uint32_t>(out.size() - length_at);
  for (int i = 0; i < 4; ++i) out[length_at + i] = static_cast<char>((length >> (24 - 8 * i)) & 0xff);
}

proxy::byte_buffer start(char type) {
  proxy::byte_buffer out;
  out.push_back(type);
  append_u32(out, 0);
  return out;
}

}  // namespace

proxy::byte_buffer error_response(std::string_view severity, std::string_view sqlstate, std::string_view message) {
  auto out = start('E');
  for (auto [field, value] : {std::pair{'S', severity}, std::pair{'V', severity}, std::pair{'C', sqlstate}, std::pair{'M', message}}) {
    out.push_back(field);
    append(out, value);
    out.push_back('\0');
  }
  out.push_back('\0');
  finish(out, 1);
  return out;
}

proxy::byte_buffer query_message(std::string_view sql) {
  auto out = start('Q');
  append(out, sql);
  out.push_back('\0');
  finish(out, 1);
  return out;
}

proxy::byte_buffer execute_message(std::string_view portal, std::uint32_t max_rows) {
  auto out = start('E');
  append(out, portal);
  out.push_back('\0');
  append_u32(out, max_rows);
  finish(out, 1);
  return out;
}

}  // namespace faultline::protocol::postgres
