#pragma once
// What travels through a link: bytes read from one side, the end of the stream, or a request to
// close the connection once everything before it was delivered.

#include "faults/proxy/time.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline::proxy {

// upstream: client -> server; downstream: server -> client (Toxiproxy's `stream`).
enum class direction : std::uint8_t { upstream, downstream };

const char* to_string(direction d);
std::optional<direction> parse_direction(std::string_view text);
inline direction opposite(direction d) { return d == direction::upstream ? direction::downstream : direction::upstream; }

// Bytes without zero-filling on resize: the reader allocates a buffer per 64 KiB read.
template <typename T>
struct uninitialized_allocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = uninitialized_allocator<U>;
  };
  using std::allocator<T>::allocator;
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using byte_buffer = std::vector<char, uninitialized_allocator<char>>;

// Read buffers are recycled per thread (every connection lives on one thread), so bulk transfers
// do not allocate per read and idle connections hold none. The pool keeps a few buffers only;
// release_spare_buffers() frees this thread's when its last connection has closed.
byte_buffer take_buffer(std::size_t size);
void recycle_buffer(byte_buffer&& buffer);
void release_spare_buffers();

struct chunk {
  enum class kind : std::uint8_t {
    data,   // bytes
    eof,    // the sender finished (half-close); the other direction goes on
    close,  // close the whole connection after what came before
  };

  kind what = kind::data;
  byte_buffer bytes;
  time_point stamp{};  // when the chunk reached its current stage (toxics measure delays from it)

  std::size_t size() const { return bytes.size(); }
  static chunk end_of_stream(time_point at) { return {kind::eof, {}, at}; }
  static chunk close_request(time_point at) { return {kind::close, {}, at}; }
};

}  // namespace faultline::proxy
