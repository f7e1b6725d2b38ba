#include "faults/protocol/http/h2_connection.hpp"

#include "faults/proxy/log.hpp"

#include <algorithm>

namespace faultline::protocol::http {

using proxy::direction;
using namespace h2;

namespace {

constexpr std::size_t max_header_block = 1u << 20;  // a longer block is not followed: the connection is reset

direction other(direction d) { return d == direction::upstream ? direction::downstream : direction::upstream; }

std::uint32_t read_u32(std::string_view s) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[static_cast<std::size_t>(i)]);
  return v;
}

proxy::byte_buffer header_frames(frame_type type, std::uint8_t flags, std::uint32_t stream, std::string_view prefix, std::string_view block) {
  proxy::byte_buffer out;
  append_header_frames(out, type, flags, stream, prefix, block);
  return out;
}

// The request a client's header block opens, as toxics see it: pseudo-headers give the method
// and path; :authority is matched as host.
struct h2_request {
  std::string method;
  std::string path;
  header_fields fields;

  explicit h2_request(const header_list& list) {
    bool host = false;
    std::string authority;
    for (const auto& f : list) {
      if (f.name == ":method") method = f.value;
      else if (f.name == ":path") path = f.value.substr(0, f.value.find_first_of("?#"));
      else if (f.name == ":authority") authority = f.value;
      else if (!f.name.empty() && f.name[0] != ':') {
        host = host || f.name == "host";
        fields.emplace_back(f.name, f.value);
      }
    }
    if (!host && !authority.empty()) fields.emplace_back("host", authority);
  }

  request_view view() const { return {method, path, &fields}; }
};

}  // namespace

h2_connection::h2_connection(http_outputs& out, bool upgraded) : out_(out) {
  client_.preface = true;
  if (upgraded) last_client_stream_ = 1;
}

// ---- bytes in ---------------------------------------------------------------------------------

void h2_connection::from_client(std::string_view data, proxy::session_io& io) {
  if (wire_ == wire::tunnel) send_now(direction::upstream, data, io);
  if (wire_ != wire::http2) return;
  client_.bytes.append(data);
  parse(direction::upstream, io);
}

void h2_connection::from_server(std::string_view data, proxy::session_io& io) {
  if (wire_ == wire::tunnel) send_now(direction::downstream, data, io);
  if (wire_ != wire::http2) return;
  server_.bytes.append(data);
  parse(direction::downstream, io);
}

void h2_connection::parse(direction d, proxy::session_io& io) {
  auto& in = from(d);
  std::size_t used = 0;
  if (in.preface) {
    const auto n = std::min(in.bytes.size(), client_preface.size());
    if (std::string_view(in.bytes).substr(0, n) != client_preface.substr(0, n)) {
      // Not HTTP/2 after all (an h2c upgrade the client did not follow): nothing was decoded yet,
      // so the rest passes through untouched.
      proxy::proxy_log()->debug("http session passes an upgraded connection through: the client sent no HTTP/2 preface");
      wire_ = wire::tunnel;
      server_started_ = true;
      send_now(direction::upstream, client_.bytes, io);
      send_now(direction::downstream, server_.bytes, io);
      client_.bytes.clear();
      server_.bytes.clear();
      return;
    }
    if (n < client_preface.size()) return;
    send_now(direction::upstream, client_preface, io);
    used = client_preface.size();
    in.preface = false;
  }
  while (wire_ == wire::http2 && in.bytes.size() - used >= frame_header_size) {
    const auto h = read_frame_header(std::string_view(in.bytes).substr(used, frame_header_size));
    if (in.bytes.size() - used - frame_header_size < h.length) break;
    const std::string_view whole(in.bytes.data() + used, frame_header_size + h.length);
    used += whole.size();
    frame(d, h, whole, io);
  }
  if (wire_ != wire::http2) in.bytes.clear();
  else in.bytes.erase(0, used);
}

void h2_connection::frame(direction d, const frame_header& h, std::string_view whole, proxy::session_io& io) {
  auto& in = from(d);
  const auto payload = whole.substr(frame_header_size);
  if (in.block_start) {
    if (h.type != frame_type::continuation || h.stream != in.block_start->stream) return fail(io, "a header block was interrupted");
    in.block.append(payload);
    if (in.block.size() > max_header_block) return fail(io, "a header block is larger than 1 MiB");
    if (!h.has(flags::end_headers)) return;
    const auto start = *in.block_start;
    in.block_start.reset();
    const std::string block = std::move(in.block), prefix = std::move(in.block_prefix);
    in.block.clear();
    return header_block(d, start, prefix, block, io);
  }
  auto it = h.stream == 0 ? streams_.end() : streams_.find(h.stream);
  stream* s = it == streams_.end() ? nullptr : &it->second;
  const bool upstream = d == direction::upstream;
  const bool ends = (h.type == frame_type::data && h.has(flags::end_stream)) || h.type == frame_type::rst_stream;
  switch (h.type) {
    case frame_type::headers:
    case frame_type::push_promise: {
      if (h.stream == 0) return fail(io, "HEADERS on stream 0");
      auto block = unpadded(h, payload);
      if (!block) return fail(io, "a header frame's padding does not fit");
      std::string_view prefix;
      const std::size_t pad = h.has(flags::padded) ? 1 : 0;
      if (h.type == frame_type::headers && h.has(flags::priority)) prefix = payload.substr(pad, 5);
      if (h.type == frame_type::push_promise) {
        if (block->size() < 4) return fail(io, "PUSH_PROMISE without a promised stream");
        prefix = block->substr(0, 4);
        block->remove_prefix(4);
      }
      if (h.has(flags::end_headers)) return header_block(d, h, prefix, *block, io);
      in.block_start = h;
      in.block_prefix = prefix;
      in.block = *block;
      return;
    }
    case frame_type::continuation:
      return fail(io, "CONTINUATION without a header block");
    case frame_type::settings:
      if (!h.has(flags::ack))
        for (std::size_t i = 0; i + 6 <= payload.size(); i += 6)
          if (payload[i] == 0 && payload[i + 1] == 1) from(other(d)).decoder.allow_table_size(read_u32(payload.substr(i + 2, 4)));
      if (d == direction::downstream && !server_started_) return start_server(whole, io);
      return send_now(d, whole, io);
    case frame_type::window_update:
      if (upstream && h.stream == 0 && client_window_debt_ > 0 && payload.size() == 4) return client_window_update(whole, payload, io);
      break;
    default:
      break;
  }
  if (!s) return send_now(d, whole, io);
  const bool dropped = s->reset || (upstream && s->answered);
  if (dropped) {
    // The peer never sees this stream's frames again; its connection window still gets back
    // what the dropped DATA took.
    if (h.type == frame_type::data && h.length > 0) {
      proxy::byte_buffer update;
      append_window_update(update, 0, h.length);
      send_now(other(d), view(update), io);
    }
  } else if (!upstream && h.type == frame_type::data) {
    server_data(*s, h.stream, h, whole, io);
  } else {
    send(d, h.stream, proxy::byte_buffer(whole.begin(), whole.end()), io);
  }
  if (ends) (upstream ? s->client_closed : s->server_closed) = true;
  if (h.type == frame_type::rst_stream) s->client_closed = s->server_closed = true;
  forget_if_done(h.stream);
}

void h2_connection::header_block(direction d, const frame_header& h, std::string_view prefix, std::string_view block, proxy::session_io& io) {
  auto fields = from(d).decoder.decode(block);
  if (!fields) return fail(io, "a header block is not valid HPACK");
  const bool upstream = d == direction::upstream;
  const bool end_stream = h.type == frame_type::headers && h.has(flags::end_stream);
  if (upstream && h.type == frame_type::headers && h.stream > last_client_stream_ && (h.stream & 1) == 1) {
    last_client_stream_ = h.stream;
    return request(h.stream, *fields, h.flags, prefix, io);
  }
  auto frames = [&] { return header_frames(h.type, h.flags, h.stream, prefix, from(d).encoder.encode(*fields)); };
  auto it = streams_.find(h.stream);
  if (it == streams_.end()) return send_now(d, view(frames()), io);
  auto& s = it->second;
  if (s.reset || (upstream && s.answered)) {
    // dropped; its block was decoded all the same, so the decoder stays in step
  } else if (upstream || h.type == frame_type::push_promise) {
    send(d, h.stream, frames(), io);
  } else {
    if (!s.response_started) {
      s.response_started = true;
      if (!s.response_delay.empty()) start_hold(s.response, direction::downstream, h.stream, s.response_delay.start(io), s.response_delay.holder(), io);
    }
    if (s.cut && end_stream) {
      // http_reset: a response (or its trailers) that ends before the cut is cut here instead,
      // so the client never holds a complete response.
      if (s.body_passed == 0)
        send(d, h.stream, header_frames(h.type, static_cast<std::uint8_t>(h.flags & ~flags::end_stream), h.stream, prefix, from(d).encoder.encode(*fields)), io);
      cut_stream(s, h.stream, io);
    } else {
      send(d, h.stream, frames(), io);
    }
  }
  if (end_stream) (upstream ? s.client_closed : s.server_closed) = true;
  forget_if_done(h.stream);
}

// ---- streams the toxics act on -----------------------------------------------------------------

void h2_connection::request(std::uint32_t id, const header_list& fields, std::uint8_t flags_in, std::string_view prefix, proxy::session_io& io) {
  const h2_request r(fields);
  auto plan = plan_request(io, r.view());
  auto frames = header_frames(frame_type::headers, flags_in, id, prefix, client_.encoder.encode(fields));
  if (!plan.acts()) return send_now(direction::upstream, view(frames), io);
  auto& s = streams_[id];
  s.client_closed = (flags_in & flags::end_stream) != 0;
  if (plan.answer) {
    s.answered = true;
    s.server_closed = true;  // the server never sees the stream
    const auto& a = *plan.answer;
    proxy::byte_buffer answer;
    append_header_frames(answer, frame_type::headers, a.body.empty() ? flags::end_stream : 0, id, {}, server_.encoder.encode(answer_headers(a)));
    for (std::size_t at = 0; at < a.body.size(); at += default_max_frame) {
      const auto part = std::string_view(a.body).substr(at, default_max_frame);
      const bool last = at + part.size() == a.body.size();
      append_frame_header(answer, {static_cast<std::uint32_t>(part.size()), frame_type::data, last ? flags::end_stream : std::uint8_t{0}, id});
      append(answer, part);
    }
    client_window_debt_ += a.body.size();
    // The client may still be sending the request's body: an answer before its end says stop.
    if (!s.client_closed) append_rst_stream(answer, id, error_code::no_error);
    auto [at, holder] = answer_time(plan, io);
    if (holder) start_hold(s.response, direction::downstream, id, at, holder, io);
    send(direction::downstream, id, std::move(answer), io);
    forget_if_done(id);
    return;
  }
  s.response_delay = std::move(plan.before_response);
  s.cut = std::move(plan.cut);
  if (!plan.before_request.empty()) start_hold(s.request, direction::upstream, id, plan.before_request.start(io), plan.before_request.holder(), io);
  send(direction::upstream, id, std::move(frames), io);
  forget_if_done(id);
}

void h2_connection::server_data(stream& s, std::uint32_t id, const frame_header& h, std::string_view whole, proxy::session_io& io) {
  if (!s.cut) return send(direction::downstream, id, proxy::byte_buffer(whole.begin(), whole.end()), io);
  auto data = unpadded(h, whole.substr(frame_header_size));
  if (!data) return fail(io, "a DATA frame's padding does not fit");
  const auto left = s.cut->after - s.body_passed;
  if (data->size() < left && !h.has(flags::end_stream)) {
    s.body_passed += data->size();
    return send(direction::downstream, id, proxy::byte_buffer(whole.begin(), whole.end()), io);
  }
  // http_reset: `after` body bytes reach the client, then the stream is reset.
  const auto pass = static_cast<std::size_t>(std::min<std::uint64_t>(data->size(), left));
  if (pass > 0) {
    proxy::byte_buffer part;
    append_frame_header(part, {static_cast<std::uint32_t>(pass), frame_type::data, 0, id});
    append(part, data->substr(0, pass));
    send(direction::downstream, id, std::move(part), io);
  }
  s.body_passed += pass;
  if (h.length > pass) {  // what the client never gets, the server's window gets back
    proxy::byte_buffer update;
    append_window_update(update, 0, static_cast<std::uint32_t>(h.length - pass));
    send_now(direction::upstream, view(update), io);
  }
  cut_stream(s, id, io);
}

void h2_connection::cut_stream(stream& s, std::uint32_t id, proxy::session_io& io) {
  proxy::byte_buffer to_client, to_server;
  append_rst_stream(to_client, id, error_code::internal_error);
  append_rst_stream(to_server, id, error_code::cancel);
  send(direction::downstream, id, std::move(to_client), io);
  send_now(direction::upstream, view(to_server), io);
  count_response_cut(*s.cut, false);
  s.cut.reset();
  s.reset = true;
  s.client_closed = true;  // it got RST_STREAM; what it still sends is dropped until the server is done
}

void h2_connection::client_window_update(std::string_view whole, std::string_view payload, proxy::session_io& io) {
  auto increment = read_u32(payload) & 0x7fffffffu;
  const auto take = static_cast<std::uint32_t>(std::min<std::uint64_t>(client_window_debt_, increment));
  client_window_debt_ -= take;
  increment -= take;
  if (take == 0) return send_now(direction::upstream, whole, io);
  if (increment == 0) return;
  proxy::byte_buffer update;
  append_window_update(update, 0, increment);
  send_now(direction::upstream, view(update), io);
}

void h2_connection::forget_if_done(std::uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  const auto& s = it->second;
  if (s.request.active || s.response.active) return;
  // A reset stream is forgotten once the server is done with it (what the client still sends
  // then goes to the server, which has closed the stream); an answered one once the client is.
  const bool done = s.reset ? s.server_closed : s.client_closed && s.server_closed;
  if (done) streams_.erase(it);
}

// ---- bytes out --------------------------------------------------------------------------------

void h2_connection::send(direction d, std::uint32_t id, proxy::byte_buffer frame, proxy::session_io& io) {
  auto it = streams_.find(id);
  if (it != streams_.end()) {
    auto& h = d == direction::upstream ? it->second.request : it->second.response;
    if (h.active) {
      h.frames.push_back(std::move(frame));
      return;
    }
  }
  send_now(d, view(frame), io);
}

void h2_connection::send_now(direction d, std::string_view bytes, proxy::session_io& io) {
  if (bytes.empty()) return;
  if (d == direction::downstream && !server_started_ && wire_ == wire::http2) {
    early_to_client_.append(bytes);  // (see start_server)
    return;
  }
  toward(d).push(io, bytes);
}

void h2_connection::start_server(std::string_view first, proxy::session_io& io) {
  server_started_ = true;
  send_now(direction::downstream, first, io);
  send_now(direction::downstream, early_to_client_, io);
  early_to_client_.clear();
}

void h2_connection::start_hold(hold& h, direction d, std::uint32_t id, proxy::time_point at, reply_queue::holder_ptr holder, proxy::session_io& io) {
  h.active = true;
  h.at = at;
  h.holder = std::move(holder);
  io.call_at(at, [this, d, id](proxy::session_io& io2) {
    auto it = streams_.find(id);
    if (it == streams_.end() || wire_ != wire::http2) return;
    auto& held = d == direction::upstream ? it->second.request : it->second.response;
    if (!held.active) return;
    release(held, d, io2);
    forget_if_done(id);
    out_.to_server.flush(io2);
    out_.to_client.flush(io2);
  });
}

void h2_connection::release(hold& h, direction d, proxy::session_io& io) {
  h.active = false;
  h.holder.reset();
  for (const auto& f : h.frames) send_now(d, view(f), io);
  h.frames.clear();
  if (from(d).ended && !holding(d)) pass_end(d, io);
}

void h2_connection::pass_end(direction d, proxy::session_io& io) {
  auto& sender = from(d);
  if (sender.end_passed) return;
  sender.end_passed = true;
  toward(d).push_end(io);
}

bool h2_connection::holding(direction d) const {
  return std::any_of(streams_.begin(), streams_.end(), [&](const auto& e) { return (d == direction::upstream ? e.second.request : e.second.response).active; });
}

void h2_connection::release_orphans(proxy::session_io& io) {
  if (wire_ != wire::http2) return;
  const auto& toxics = io.message_toxics();
  auto gone = [&](const hold& h) {
    return h.active && std::none_of(toxics.begin(), toxics.end(), [&](const auto& t) { return t.config == h.holder; });
  };
  std::vector<std::uint32_t> touched;
  for (auto& [id, s] : streams_) {
    if (gone(s.request)) release(s.request, direction::upstream, io);
    if (gone(s.response)) release(s.response, direction::downstream, io);
    touched.push_back(id);
  }
  for (auto id : touched) forget_if_done(id);
}

// ---- ends -------------------------------------------------------------------------------------

void h2_connection::client_ended(proxy::session_io& io) {
  if (wire_ == wire::cut) return;
  // A frame cut short by the end goes on as it came; the server makes of it what it can.
  send_now(direction::upstream, client_.bytes, io);
  client_.bytes.clear();
  client_.ended = true;
  if (!holding(direction::upstream)) pass_end(direction::upstream, io);
}

void h2_connection::server_ended(proxy::session_io& io) {
  if (wire_ == wire::cut) return;
  if (!server_started_) start_server({}, io);  // the server ends without its preface: what waited goes now
  send_now(direction::downstream, server_.bytes, io);
  server_.bytes.clear();
  server_.ended = true;
  if (!holding(direction::downstream)) pass_end(direction::downstream, io);
}

void h2_connection::fail(proxy::session_io& io, std::string_view why) {
  // Header blocks are encoded again per hop, so the connection cannot fall back to passing
  // bytes through: it is reset, as a peer would for a compression or framing error.
  proxy::proxy_log()->debug("http session resets an HTTP/2 connection it cannot follow: {}", why);
  wire_ = wire::cut;
  streams_.clear();
  out_.to_client.push_cut(io, true);
}

}  // namespace faultline::protocol::http
