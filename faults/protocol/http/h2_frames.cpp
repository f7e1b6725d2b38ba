#include "faults/protocol/http/h2_frames.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cctype>
#include <new>

namespace faultline::protocol::http::h2 {

namespace {

void put_u32(proxy::byte_buffer& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

}  // namespace

frame_header read_frame_header(std::string_view b) {
  frame_header h;
  h.length = (std::uint32_t{byte_at(b, 0)} << 16) | (std::uint32_t{byte_at(b, 1)} << 8) | byte_at(b, 2);
  h.type = static_cast<frame_type>(byte_at(b, 3));
  h.flags = byte_at(b, 4);
  h.stream = ((std::uint32_t{byte_at(b, 5)} << 24) | (std::uint32_t{byte_at(b, 6)} << 16) | (std::uint32_t{byte_at(b, 7)} << 8) | byte_at(b, 8)) &
             0x7fffffffu;
  return h;
}

void append_frame_header(proxy::byte_buffer& out, const frame_header& h) {
  out.push_back(static_cast<char>((h.length >> 16) & 0xff));
  out.push_back(static_cast<char>((h.length >> 8) & 0xff));
  out.push_back(static_cast<char>(h.length & 0xff));
  out.push_back(static_cast<char>(h.type));
  out.push_back(static_cast<char>(h.flags));
  put_u32(out, h.stream & 0x7fffffffu);
}

void append_rst_stream(proxy::byte_buffer& out, std::uint32_t stream, error_code code) {
  append_frame_header(out, {4, frame_type::rst_stream, 0, stream});
  put_u32(out, static_cast<std::uint32_t>(code));
}

void append_window_update(proxy::byte_buffer& out, std::uint32_t stream, std::uint32_t increment) {
  append_frame_header(out, {4, frame_type::window_update, 0, stream});
  put_u32(out, increment & 0x7fffffffu);
}

std::optional<std::string_view> unpadded(const frame_header& h, std::string_view payload) {
  const bool can_pad = h.type == frame_type::data || h.type == frame_type::headers || h.type == frame_type::push_promise;
  if (can_pad && h.has(flags::padded)) {
    if (payload.empty()) return std::nullopt;
    const std::size_t pad = byte_at(payload, 0);
    payload.remove_prefix(1);
    if (pad > payload.size()) return std::nullopt;
    payload.remove_suffix(pad);
  }
  if (h.type == frame_type::headers && h.has(flags::priority)) {
    if (payload.size() < 5) return std::nullopt;
    payload.remove_prefix(5);
  }
  return payload;
}

hpack_decoder::hpack_decoder() {
  if (nghttp2_hd_inflate_new(&inflater_) != 0) throw std::bad_alloc();
}

hpack_decoder::~hpack_decoder() { nghttp2_hd_inflate_del(inflater_); }

void hpack_decoder::allow_table_size(std::uint32_t size) {
  // The table's size changes only when the encoder says so (a size update in a block); the
  // setting only bounds it. So only ever grow the bound: a smaller one is the receiver's to check.
  constexpr std::uint32_t largest = 1u << 20;
  size = std::min(size, largest);
  if (size > table_size_ && nghttp2_hd_inflate_change_table_size(inflater_, size) == 0) table_size_ = size;
}

std::optional<header_list> hpack_decoder::decode(std::string_view block) {
  header_list out;
  auto* in = reinterpret_cast<const std::uint8_t*>(block.data());
  std::size_t left = block.size();
  for (;;) {
    nghttp2_nv nv{};
    int inflate_flags = 0;
    const auto used = nghttp2_hd_inflate_hd2(inflater_, &nv, &inflate_flags, in, left, 1);
    if (used < 0) return std::nullopt;
    in += used;
    left -= static_cast<std::size_t>(used);
    if (inflate_flags & NGHTTP2_HD_INFLATE_EMIT)
      out.push_back({std::string(reinterpret_cast<const char*>(nv.name), nv.namelen), std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen),
                     (nv.flags & NGHTTP2_NV_FLAG_NO_INDEX) != 0});
    if (inflate_flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(inflater_);
      return out;
    }
    if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) return std::nullopt;  // cut short
  }
}

hpack_encoder::hpack_encoder() {
  if (nghttp2_hd_deflate_new(&deflater_, 0) != 0) throw std::bad_alloc();
}

hpack_encoder::~hpack_encoder() { nghttp2_hd_deflate_del(deflater_); }

std::string hpack_encoder::encode(const header_list& fields) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (const auto& f : fields) {
    nva.push_back({const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(f.name.data())),
                   const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(f.value.data())), f.name.size(), f.value.size(),
                   static_cast<std::uint8_t>(NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE |
                                             (f.never_indexed ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE))});
  }
  std::string out(nghttp2_hd_deflate_bound(deflater_, nva.data(), nva.size()), '\0');
  const auto n = nghttp2_hd_deflate_hd(deflater_, reinterpret_cast<std::uint8_t*>(out.data()), out.size(), nva.data(), nva.size());
  if (n < 0) throw std::bad_alloc();  // only when out of memory: the bound fits any list
  out.resize(static_cast<std::size_t>(n));
  return out;
}

void append_header_frames(proxy::byte_buffer& out, frame_type type, std::uint8_t first_flags, std::uint32_t stream, std::string_view prefix,
                          std::string_view block) {
  const std::size_t room = default_max_frame - prefix.size();
  auto part = block.substr(0, room);
  block.remove_prefix(part.size());
  const std::uint8_t f = static_cast<std::uint8_t>((first_flags & (flags::end_stream | flags::priority)) | (block.empty() ? flags::end_headers : 0));
  append_frame_header(out, {static_cast<std::uint32_t>(prefix.size() + part.size()), type, f, stream});
  out.insert(out.end(), prefix.begin(), prefix.end());
  out.insert(out.end(), part.begin(), part.end());
  while (!block.empty()) {
    part = block.substr(0, default_max_frame);
    block.remove_prefix(part.size());
    append_frame_header(out, {static_cast<std::uint32_t>(part.size()), frame_type::continuation, block.empty() ? flags::end_headers : std::uint8_t{0}, stream});
    out.insert(out.end(), part.begin(), part.end());
  }
}

header_list answer_headers(const local_answer& a) {
  header_list out{{":status", std::to_string(a.status)}};
  for (const auto& [name, value] : a.headers) {
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back({std::move(lower), value});
  }
  if (!a.body.empty()) out.push_back({"content-length", std::to_string(a.body.size())});
  return out;
}

}  // namespace faultline::protocol::http::h2
