#pragma once
// HTTP/2 framing as the http session needs it (RFC 9113): frame headers, the frames it writes
// itself (RST_STREAM, WINDOW_UPDATE, HEADERS), and HPACK (RFC 7541) through nghttp2: each
// direction's header blocks are decoded in order (so the decoder stays in step with the sender's
// encoder) and encoded again without the dynamic table, so the session may drop, hold or add a
// block without disturbing the compression state of the others.

#include "faults/protocol/http/http_toxics.hpp"
#include "faults/proxy/chunk.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct nghttp2_hd_inflater;
struct nghttp2_hd_deflater;

namespace faultline::protocol::http::h2 {

inline constexpr std::string_view client_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
inline constexpr std::size_t frame_header_size = 9;
inline constexpr std::uint32_t default_max_frame = 16384;  // every peer takes frames this large

enum class frame_type : std::uint8_t {
  data = 0x0,
  headers = 0x1,
  priority = 0x2,
  rst_stream = 0x3,
  settings = 0x4,
  push_promise = 0x5,
  ping = 0x6,
  goaway = 0x7,
  window_update = 0x8,
  continuation = 0x9,
};

namespace flags {
inline constexpr std::uint8_t end_stream = 0x1;
inline constexpr std::uint8_t ack = 0x1;
inline constexpr std::uint8_t end_headers = 0x4;
inline constexpr std::uint8_t padded = 0x8;
inline constexpr std::uint8_t priority = 0x20;
}  // namespace flags

enum class error_code : std::uint32_t { no_error = 0x0, internal_error = 0x2, cancel = 0x8 };

struct frame_header {
  std::uint32_t length = 0;
  frame_type type = frame_type::data;
  std::uint8_t flags = 0;
  std::uint32_t stream = 0;

  bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
};

frame_header read_frame_header(std::string_view nine_bytes);
void append_frame_header(proxy::byte_buffer& out, const frame_header& h);
void append_rst_stream(proxy::byte_buffer& out, std::uint32_t stream, error_code code);
void append_window_update(proxy::byte_buffer& out, std::uint32_t stream, std::uint32_t increment);

// A frame's payload without its padding (DATA, HEADERS, PUSH_PROMISE with PADDED) and, for
// HEADERS with PRIORITY, without the priority fields; nothing when the padding does not fit.
std::optional<std::string_view> unpadded(const frame_header& h, std::string_view payload);

// A decoded header field; `never_indexed` keeps the sender's wish for sensitive values.
struct header_field {
  std::string name;
  std::string value;
  bool never_indexed = false;
};
using header_list = std::vector<header_field>;

// One direction's HPACK decoder. Every header block of that direction goes through it in order,
// whatever the session does with the block.
class hpack_decoder {
public:
  hpack_decoder();
  ~hpack_decoder();
  hpack_decoder(const hpack_decoder&) = delete;
  hpack_decoder& operator=(const hpack_decoder&) = delete;
  // Nothing when the block is not valid HPACK (the connection can no longer be followed).
  std::optional<header_list> decode(std::string_view block);
  // The receiver announced SETTINGS_HEADER_TABLE_SIZE: the sender's encoder may use a table this large.
  void allow_table_size(std::uint32_t size);

private:
  nghttp2_hd_inflater* inflater_ = nullptr;
  std::uint32_t table_size_ = 4096;
};

// One direction's HPACK encoder: static table and Huffman coding, no dynamic table, so a block
// means the same whatever blocks went before it or were dropped.
class hpack_encoder {
public:
  hpack_encoder();
  ~hpack_encoder();
  hpack_encoder(const hpack_encoder&) = delete;
  hpack_encoder& operator=(const hpack_encoder&) = delete;
  std::string encode(const header_list& fields);

private:
  nghttp2_hd_deflater* deflater_ = nullptr;
};

// HEADERS (or PUSH_PROMISE, whose promised stream and the HEADERS priority fields go in `prefix`)
// + CONTINUATION frames carrying `block`, split at the default frame size. `flags` are the first
// frame's (END_STREAM, PRIORITY); END_HEADERS is set on the last.
void append_header_frames(proxy::byte_buffer& out, frame_type type, std::uint8_t flags, std::uint32_t stream, std::string_view prefix,
                          std::string_view block);

// A local answer as a header list: ":status", its headers (lower-cased), content-length when it has a body.
header_list answer_headers(const local_answer& a);

}  // namespace faultline::protocol::http::h2
