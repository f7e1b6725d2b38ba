#include "faults/protocol/http/h1_connection.hpp"

#include "faults/proxy/log.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace faultline::protocol::http {

namespace bhttp = boost::beast::http;
using proxy::direction;

namespace {

// Headers longer than this are not followed (Beast refuses them; the rest passes through).
constexpr std::uint32_t max_header = 64u << 10;

bool same_letters(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y)); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated header (Upgrade, Expect) of the request has the token.
bool has_token(const header_fields& fields, std::string_view name, std::string_view token) {
  for (const auto& [n, v] : fields) {
    if (!same_letters(n, name)) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      if (same_letters(trim(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

// The path of a request target, without query or fragment: origin form ("/a?b"), absolute form
// ("http://host/a"), "*" and authority form (CONNECT host:443) as they are.
std::string_view path_of(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && same_letters(target.substr(0, scheme.size()), scheme)) {
      auto slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      break;
    }
  }
  return target.substr(0, target.find_first_of("?#"));
}

proxy::byte_buffer serialize(const local_answer& a, int version, bool close, bool head) {
  const std::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(a.status));
  std::string out = fmt::format("HTTP/1.{} {} {}\r\n", version == 10 ? 0 : 1, a.status, reason.empty() ? std::string_view("Unknown") : reason);
  for (const auto& [name, value] : a.headers) out += fmt::format("{}: {}\r\n", name, value);
  out += fmt::format("Content-Length: {}\r\n", a.body.size());
  if (close) out += "Connection: close\r\n";
  else if (version == 10) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!head) out += a.body;
  return {out.begin(), out.end()};
}

}  // namespace

// Beast's parser, keeping what the session needs: the request line and fields, the status.
template <bool is_request>
class h1_connection::reader final : public bhttp::basic_parser<is_request> {
public:
  reader() {
    this->eager(false);  // stop after the header, so it is decided on before its body moves
    this->header_limit(max_header);
    this->body_limit(boost::none);
  }

  // Beast's put, but for one case: Boost 1.81's Beast asserts (wrongly: boostorg/beast#2861,
  // fixed in Boost 1.86) when a body's final chunk "0\r\n" came alone and the next call brings
  // fewer than 5 bytes, so a build with assertions on would abort on a peer that sends the end of
  // a chunked body in such pieces. The message cannot end before "0\r\n\r\n" is whole, so that
  // short rest waits for more (need_more, nothing read).
  std::size_t read(std::string_view in, boost::system::error_code& ec) {
    if (this->is_header_done() && this->chunked() && in.size() < 5 && in.starts_with("0\r\n")) {
      ec = bhttp::error::need_more;
      return 0;
    }
    return this->put(boost::asio::buffer(in.data(), in.size()), ec);
  }

  std::string method;
  std::string target;
  int status = 0;
  int version = 11;
  header_fields fields;

private:
  using error_code = boost::system::error_code;
  using text = boost::beast::string_view;  // Boost's own in 1.81; converts to std::string_view
  void on_request_impl(bhttp::verb, text m, text t, int v, error_code&) override {
    method = std::string_view(m);
    target = std::string_view(t);
    version = v;
  }
  void on_response_impl(int code, text, int v, error_code&) override {
    status = code;
    version = v;
  }
  void on_field_impl(bhttp::field, text name, text value, error_code&) override {
    if constexpr (is_request) fields.emplace_back(std::string_view(name), std::string_view(value));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(text body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, text, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, text body, error_code&) override { return body.size(); }
  void on_finish_impl(error_code&) override {}
};

// A request waiting for its response.
struct h1_connection::slot {
  bool local = false;  // answered here
  proxy::byte_buffer answer;
  proxy::time_point answer_at{};
  reply_queue::holder_ptr answer_holder;
  bool close_after = false;  // the answer ends the connection

  bool head = false;
  bool connect = false;
  bool upgrade = false;
  bool h2c = false;  // the upgrade asked for is to HTTP/2
  bool passthrough = false;  // the client sent what cannot be parsed: from its response on, a tunnel

  reply_hold response_hold;
  std::optional<cut_plan> cut;
  bool started = false;
  proxy::time_point release_at{};
  reply_queue::holder_ptr holder;
};

h1_connection::h1_connection(http_outputs& out) : out_(out) {}
h1_connection::~h1_connection() = default;

void h1_connection::send_to_server(std::string_view bytes, proxy::session_io& io) {
  out_.to_server.push(io, bytes, request_at_, request_holder_);
}

void h1_connection::send_to_client(std::string_view bytes, proxy::session_io& io) {
  const slot* s = slots_.empty() || !response_ ? nullptr : &slots_.front();
  if (s) out_.to_client.push(io, bytes, s->release_at, s->holder);
  else out_.to_client.push(io, bytes);
}

// ---- client -> server ---------------------------------------------------------------------

void h1_connection::from_client(std::string_view data, proxy::session_io& io) {
  if (client_wire_ == wire::tunnel) {
    send_to_server(data, io);
    return;
  }
  if (client_wire_ != wire::http1 || closing_) return;
  client_bytes_.append(data);
  parse_client(io);
}

std::string h1_connection::take_client_bytes() { return std::exchange(client_bytes_, {}); }
std::string h1_connection::take_server_bytes() { return std::exchange(server_bytes_, {}); }

void h1_connection::parse_client(proxy::session_io& io) {
  if (first_request_) {
    // HTTP/2 with prior knowledge: the HTTP/2 follower takes the connection, preface and all.
    constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const auto n = std::min(client_bytes_.size(), preface.size());
    if (std::string_view(client_bytes_).substr(0, n) == preface.substr(0, n)) {
      if (n == preface.size()) client_wire_ = server_wire_ = wire::http2;
      return;  // (or wait for the rest of what may be the preface)
    }
    first_request_ = false;
  }
  std::size_t used = 0;
  while (used < client_bytes_.size() && client_wire_ == wire::http1 && !closing_ && !wait_for_switch_) {
    if (!request_) {
      request_ = std::make_unique<reader<true>>();
      drop_request_ = false;
      request_at_ = {};
      request_holder_.reset();
    }
    const std::string_view in(client_bytes_.data() + used, client_bytes_.size() - used);
    const bool had_header = request_->is_header_done();
    boost::system::error_code ec;
    const auto n = request_->read(in, ec);
    const std::string_view consumed = in.substr(0, n);
    if (!had_header && !request_->is_header_done()) {
      // Beast takes the request line before the fields are complete: hold it until the request
      // is decided on, so an aborted request never reaches the server and a delayed one is
      // delayed whole.
      request_head_.append(consumed);
    } else {
      if (!had_header) request_header(io);
      if (!drop_request_ && !request_head_.empty()) {
        request_head_.append(consumed);
        send_to_server(request_head_, io);
      } else if (!drop_request_ && n > 0) {
        send_to_server(consumed, io);
      }
      request_head_.clear();
    }
    used += n;
    if (ec == bhttp::error::need_more) break;
    if (ec) {
      proxy::proxy_log()->debug("http session passes the rest of a connection through: the client sent what is not HTTP/1.1 ({})", ec.message());
      client_bytes_.erase(0, used);
      pass_rest_of_client(io);
      return;
    }
    if (request_->is_done()) request_done();
  }
  client_bytes_.erase(0, used);
}

void h1_connection::request_header(proxy::session_io& io) {
  auto& r = *request_;
  const request_view view{r.method, path_of(r.target), &r.fields};
  auto plan = plan_request(io, view);
  slot s;
  s.head = r.method == "HEAD";
  s.connect = r.method == "CONNECT";
  s.upgrade = r.upgrade();
  s.h2c = s.upgrade && has_token(r.fields, "upgrade", "h2c");
  if (plan.answer) {
    drop_request_ = true;
    const bool body = r.chunked() || r.content_length().value_or(0) > 0;
    s.local = true;
    // After Expect: 100-continue the client may send the body or not: only a close is clear.
    s.close_after = !r.keep_alive() || (body && has_token(r.fields, "expect", "100-continue"));
    s.answer = serialize(*plan.answer, r.version, s.close_after, s.head);
    std::tie(s.answer_at, s.answer_holder) = answer_time(plan, io);
    if (s.close_after) closing_ = true;  // what the client sends after it is never read
  } else {
    if (!plan.before_request.empty()) {
      request_at_ = plan.before_request.start(io);
      request_holder_ = plan.before_request.holder();
    }
    s.response_hold = std::move(plan.before_response);
    s.cut = std::move(plan.cut);
  }
  request_may_switch_ = !s.local && (s.upgrade || s.connect);
  slots_.push_back(std::move(s));
  if (slots_.size() == 1) answer_local(io);
}

void h1_connection::request_done() {
  if (request_may_switch_) wait_for_switch_ = true;
  request_may_switch_ = false;
  request_.reset();
}

void h1_connection::pass_rest_of_client(proxy::session_io& io) {
  request_head_.append(client_bytes_);
  send_to_server(request_head_, io);
  request_head_.clear();
  client_bytes_.clear();
  request_.reset();
  client_wire_ = wire::tunnel;
  slot s;
  s.passthrough = true;
  slots_.push_back(std::move(s));
}

void h1_connection::client_ended(proxy::session_io& io) {
  // A request cut short by the client's end goes on as it came; the server answers it (or not).
  request_head_.append(client_bytes_);
  if (client_wire_ == wire::http1 && !closing_ && !request_head_.empty()) send_to_server(request_head_, io);
  request_head_.clear();
  client_bytes_.clear();
  if (client_wire_ != wire::cut) out_.to_server.push_end(io);
}

// ---- server -> client ---------------------------------------------------------------------

void h1_connection::from_server(std::string_view data, proxy::session_io& io) {
  if (server_wire_ == wire::tunnel) {
    out_.to_client.push(io, data);
    return;
  }
  if (server_wire_ != wire::http1) return;
  server_bytes_.append(data);
  parse_server(io);
}

bool h1_connection::start_response(proxy::session_io& io) {
  answer_local(io);
  if (server_wire_ != wire::http1) return false;
  response_ = std::make_unique<reader<false>>();
  body_passed_ = 0;
  if (slots_.empty()) return true;  // a response nobody asked for (a 408 before closing): passed on
  auto& s = slots_.front();
  if (s.passthrough) {
    response_.reset();
    server_wire_ = wire::tunnel;
    return false;
  }
  if (s.head) response_->skip(true);
  if (!s.started) {
    s.started = true;
    s.release_at = s.response_hold.start(io);
    s.holder = s.response_hold.holder();
  }
  return true;
}

void h1_connection::parse_server(proxy::session_io& io) {
  std::size_t used = 0;
  while (used < server_bytes_.size() && server_wire_ == wire::http1) {
    if (!response_ && !start_response(io)) break;
    const std::string_view in(server_bytes_.data() + used, server_bytes_.size() - used);
    const bool had_header = response_->is_header_done();
    boost::system::error_code ec;
    const auto n = response_->read(in, ec);
    const bool header_now = !had_header && response_->is_header_done();
    used += n;
    if (ec && ec != bhttp::error::need_more) {
      proxy::proxy_log()->debug("http session passes the rest of a connection through: the server sent what is not HTTP/1.1 ({})", ec.message());
      response_.reset();
      server_wire_ = wire::tunnel;
      used -= n;
      break;
    }
    response_bytes(in.substr(0, n), header_now, response_->is_done(), io);
    if (server_wire_ == wire::cut) return;
    const bool connect_ok = header_now && !slots_.empty() && slots_.front().connect && response_->status / 100 == 2;
    if (connect_ok) {  // a tunnel from the end of this header on
      response_.reset();
      slots_.pop_front();
      server_bytes_.erase(0, used);
      used = 0;
      switch_to_tunnel(io);
      break;
    }
    if (response_->is_done()) {
      server_bytes_.erase(0, used);
      used = 0;
      response_done(io);
      continue;
    }
    if (ec == bhttp::error::need_more) break;
  }
  server_bytes_.erase(0, used);
  if (server_wire_ == wire::tunnel && !server_bytes_.empty()) out_.to_client.push(io, server_bytes_);
  if (server_wire_ == wire::tunnel || server_wire_ == wire::cut) server_bytes_.clear();
}

void h1_connection::response_bytes(std::string_view bytes, bool header_now, bool done_now, proxy::session_io& io) {
  slot* s = slots_.empty() ? nullptr : &slots_.front();
  if (!s || !s->cut || response_->status < 200) {
    send_to_client(bytes, io);
    return;
  }
  // http_reset: the header passes, then `after` bytes; a response that ends first loses its
  // last byte, so the client never holds a complete response.
  const auto& cut = *s->cut;
  std::size_t pass = bytes.size();
  bool cut_now = false;
  if (!header_now && cut.after - body_passed_ <= pass) {
    pass = static_cast<std::size_t>(cut.after - body_passed_);
    cut_now = true;
  }
  if (done_now && !bytes.empty() && pass >= bytes.size()) {
    pass = bytes.size() - 1;
    cut_now = true;
  }
  if (done_now) cut_now = true;
  send_to_client(bytes.substr(0, pass), io);
  if (!header_now) body_passed_ += pass;
  if (!cut_now) return;
  count_response_cut(cut, true);
  out_.to_client.push_cut(io, cut.reset);
  client_wire_ = server_wire_ = wire::cut;
  slots_.clear();
  response_.reset();
}

void h1_connection::response_done(proxy::session_io& io) {
  const int status = response_->status;
  response_.reset();
  if (slots_.empty()) return;
  if (status / 100 == 1 && status != 101) return;  // interim: the final response follows
  auto s = std::move(slots_.front());
  slots_.pop_front();
  if (status == 101 && s.h2c) {  // the HTTP/2 follower takes the bytes after the 101
    client_wire_ = server_wire_ = wire::http2;
    upgraded_to_h2c_ = true;
    wait_for_switch_ = false;
    request_.reset();
    return;
  }
  if (status == 101 && s.upgrade) {
    switch_to_tunnel(io);
    return;
  }
  if (wait_for_switch_ && (s.upgrade || s.connect)) {
    wait_for_switch_ = false;  // refused: the client's next bytes are requests again
    parse_client(io);
  }
  answer_local(io);
}

void h1_connection::answer_local(proxy::session_io& io) {
  while (!response_ && !slots_.empty() && slots_.front().local) {
    auto s = std::move(slots_.front());
    slots_.pop_front();
    out_.to_client.push(io, view(s.answer), s.answer_at, s.answer_holder);
    if (s.close_after) {
      out_.to_client.push_cut(io, false);
      client_wire_ = server_wire_ = wire::cut;
      slots_.clear();
      return;
    }
  }
}

void h1_connection::switch_to_tunnel(proxy::session_io& io) {
  server_wire_ = client_wire_ = wire::tunnel;
  wait_for_switch_ = false;
  request_.reset();
  // The client's bytes after the request belong to the new protocol.
  send_to_server(client_bytes_, io);
  client_bytes_.clear();
}

void h1_connection::server_ended(proxy::session_io& io) {
  if (server_wire_ == wire::http1 && response_ && response_->is_header_done()) {
    boost::system::error_code ec;
    response_->put_eof(ec);  // a body that ends with the connection
    if (!ec && response_->is_done()) {
      auto* s = slots_.empty() ? nullptr : &slots_.front();
      if (s && s->cut && response_->status >= 200) {  // it ended before the cut: cut now
        count_response_cut(*s->cut, true);
        out_.to_client.push_cut(io, s->cut->reset);
        client_wire_ = server_wire_ = wire::cut;
        return;
      }
      response_done(io);
    }
  }
  if (server_wire_ == wire::cut) return;
  if (!server_bytes_.empty()) send_to_client(server_bytes_, io);  // a response cut short goes on as it came
  server_bytes_.clear();
  response_.reset();
  slots_.clear();  // answers queued behind a response that never comes cannot go out in order
  out_.to_client.push_end(io);
}

}  // namespace faultline::protocol::http
