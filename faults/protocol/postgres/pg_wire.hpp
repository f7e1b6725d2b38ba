#pragma once
// The PostgreSQL v3 wire format as the postgres session needs it: message framing (a typed
// message is a type byte, a 4-byte length that counts itself, and a body; startup-phase messages
// have no type byte), readers for message bodies, and the messages the session makes itself.

#include "faults/proxy/chunk.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace faultline::protocol::postgres {

// Request codes of the untyped startup-phase messages.
inline constexpr std::uint32_t ssl_request_code = 80877103;
inline constexpr std::uint32_t gssenc_request_code = 80877104;
inline constexpr std::uint32_t cancel_request_code = 80877102;
inline constexpr std::uint32_t protocol_major_3 = 3;
// The server refuses longer startup packets (MAX_STARTUP_PACKET_LENGTH).
inline constexpr std::uint32_t max_startup_length = 10000;

std::uint32_t read_u32(const char* p);
void append_u32(proxy::byte_buffer& out, std::uint32_t v);

// The header of a typed message, once its 5 bytes are there: type and body length (the length
// field minus itself). Empty when the length field is below 4, which no valid message has.
struct typed_header {
  char type = 0;
  std::uint32_t body_length = 0;
};
std::optional<typed_header> read_typed_header(std::string_view five_bytes);

// Reads a message body: NUL-terminated strings, bytes and integers; fails softly (empty
// optional) past the end, so a malformed message never reads out of bounds.
class body_reader {
public:
  explicit body_reader(std::string_view body) : body_(body) {}
  std::optional<std::string_view> cstring();
  std::optional<char> byte();
  std::string_view rest() const { return body_.substr(at_); }

private:
  std::string_view body_;
  std::size_t at_ = 0;
};

// ErrorResponse ('E') with severity (both the localized S and the raw V field), SQLSTATE code
// and message.
proxy::byte_buffer error_response(std::string_view severity, std::string_view sqlstate, std::string_view message);
proxy::byte_buffer query_message(std::string_view sql);                                  // 'Q'
proxy::byte_buffer execute_message(std::string_view portal, std::uint32_t max_rows);     // 'E'

}  // namespace faultline::protocol::postgres
