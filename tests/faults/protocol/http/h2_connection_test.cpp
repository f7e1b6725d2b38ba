// The http session's HTTP/2 follower on in-memory pipes with a manual clock: per-stream aborts,
// delays and resets, the h2c upgrade, and the same bytes at every split. Clients here encode
// with a dynamic HPACK table (as curl and browsers do), so a stream dropped by the proxy would
// break the server's decoding if header blocks were not encoded again per hop.
#include "faults/protocol/http/h2_frames.hpp"
#include "faults/protocol/http/http_session.hpp"
#include "faults/protocol/http/http_toxics.hpp"
#include "tests/faults/protocol/http/http_harness.hpp"

#include <catch2/catch.hpp>
#include <nghttp2/nghttp2.h>

#include <initializer_list>
#include <map>
#include <memory>

using namespace faultline;
using namespace faultline::test;
using namespace faultline::protocol::http;
namespace h2 = faultline::protocol::http::h2;

namespace {

std::string bytes(const fp::byte_buffer& b) { return {b.begin(), b.end()}; }

std::string frame(h2::frame_type type, std::uint8_t flags, std::uint32_t stream, std::string_view payload) {
  fp::byte_buffer out;
  h2::append_frame_header(out, {static_cast<std::uint32_t>(payload.size()), type, flags, stream});
  out.insert(out.end(), payload.begin(), payload.end());
  return bytes(out);
}

// An HPACK encoder with the default 4096-byte dynamic table: repeated fields become indices.
class table_encoder {
public:
  table_encoder() { nghttp2_hd_deflate_new(&d_, 4096); }
  ~table_encoder() { nghttp2_hd_deflate_del(d_); }
  std::string encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::vector<nghttp2_nv> nva;
    for (const auto& [n, v] : fields)
      nva.push_back({const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(n.data())),
                     const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(v.data())), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    std::string out(nghttp2_hd_deflate_bound(d_, nva.data(), nva.size()), '\0');
    auto n = nghttp2_hd_deflate_hd(d_, reinterpret_cast<std::uint8_t*>(out.data()), out.size(), nva.data(), nva.size());
    out.resize(static_cast<std::size_t>(n));
    return out;
  }

private:
  nghttp2_hd_deflater* d_ = nullptr;
};

// Frames in the order written. Each request() or response() adds to its encoder's dynamic table,
// so the blocks must be encoded in the order the peer receives them: the operands of `+` are
// evaluated in no set order (GCC does the right one first), the elements of a braced list in order.
std::string in_order(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

const std::string preface(h2::client_preface);
const std::string settings = frame(h2::frame_type::settings, 0, 0, "");

std::string request(table_encoder& e, std::uint32_t stream, const std::string& path, bool end_stream = true) {
  return frame(h2::frame_type::headers, static_cast<std::uint8_t>(h2::flags::end_headers | (end_stream ? h2::flags::end_stream : 0)), stream,
               e.encode({{":method", "GET"}, {":scheme", "http"}, {":authority", "x"}, {":path", path}, {"user-agent", "test"}}));
}

std::string response(table_encoder& e, std::uint32_t stream, const std::string& status, bool end_stream) {
  return frame(h2::frame_type::headers, static_cast<std::uint8_t>(h2::flags::end_headers | (end_stream ? h2::flags::end_stream : 0)), stream,
               e.encode({{":status", status}, {"server", "test"}}));
}

// What one side received, frame by frame, header blocks decoded (in order, as the peer would).
struct seen_frame {
  h2::frame_type type;
  std::uint8_t flags;
  std::uint32_t stream;
  std::string payload;                         // DATA, RST_STREAM, WINDOW_UPDATE
  std::map<std::string, std::string> headers;  // HEADERS
};

std::vector<seen_frame> frames_of(std::string in, h2::hpack_decoder& decoder) {
  if (in.rfind(preface, 0) == 0) in.erase(0, preface.size());
  std::vector<seen_frame> out;
  while (in.size() >= 9) {
    auto h = h2::read_frame_header(in);
    REQUIRE(in.size() >= 9 + h.length);
    seen_frame f{h.type, h.flags, h.stream, in.substr(9, h.length), {}};
    if (h.type == h2::frame_type::headers) {
      REQUIRE(h.has(h2::flags::end_headers));
      auto fields = decoder.decode(f.payload);
      REQUIRE(fields);
      for (auto& field : *fields) f.headers[field.name] = field.value;
    }
    out.push_back(std::move(f));
    in.erase(0, 9 + h.length);
  }
  REQUIRE(in.empty());
  return out;
}

}  // namespace

TEST_CASE("HTTP/2 http_abort answers the matching stream and the server never sees it", "[faults][protocol]") {
  http_harness h;
  auto counters = h.add(make<http_abort_toxic>({{"path", std::string("/api/*")}, {"body", std::string("no")}}));
  h.begin();
  table_encoder client;
  // The first request fills the client's table; the second is indices into it.
  h.write_bytewise(h.client, in_order({preface, settings, request(client, 1, "/api/orders"), request(client, 3, "/health")}));
  h2::hpack_decoder server_decoder;
  auto at_server = frames_of(h.server.read(), server_decoder);
  REQUIRE(at_server.size() == 2);
  CHECK(at_server[0].type == h2::frame_type::settings);
  CHECK(at_server[1].stream == 3);
  CHECK(at_server[1].headers[":path"] == "/health");
  CHECK(at_server[1].headers["user-agent"] == "test");
  // The server's SETTINGS must be the first frame the client gets (RFC 9113, 3.4): the answer waits for it.
  CHECK(h.client.read().empty());
  h.write_bytewise(h.server, settings);
  h2::hpack_decoder client_decoder;
  auto at_client = frames_of(h.client.read(), client_decoder);
  REQUIRE(at_client.size() == 3);
  CHECK(at_client[0].type == h2::frame_type::settings);
  CHECK(at_client[1].type == h2::frame_type::headers);
  CHECK(at_client[1].stream == 1);
  CHECK(at_client[1].headers[":status"] == "503");
  CHECK(at_client[1].headers["content-length"] == "2");
  CHECK(at_client[2].type == h2::frame_type::data);
  CHECK(at_client[2].payload == "no");
  CHECK(at_client[2].flags == h2::flags::end_stream);
  // The client gives back the window of the answer's body: the server does not see that part.
  h.write_bytewise(h.client, frame(h2::frame_type::window_update, 0, 0, std::string("\0\0\0\x0c", 4)));
  auto update = frames_of(h.server.read(), server_decoder);
  REQUIRE(update.size() == 1);
  CHECK(update[0].payload == std::string("\0\0\0\x0a", 4));
  auto routes = counters->routes.to_json();
  CHECK(routes["GET /api/orders"]["affected"] == 1);
  CHECK(routes["GET /health"]["seen"] == 1);
  CHECK(routes["GET /health"]["affected"] == 0);
}

TEST_CASE("HTTP/2 grpc_abort answers the call with its status in trailers", "[faults][protocol]") {
  http_harness h;
  h.add(make<grpc_abort_toxic>({{"rpc", std::string("Shout")}, {"message", std::string("down 100%")}}));
  h.begin();
  table_encoder client;
  auto call = [&](std::uint32_t stream, const std::string& path) {
    return frame(h2::frame_type::headers, h2::flags::end_headers, stream,
                 client.encode({{":method", "POST"}, {":scheme", "http"}, {":path", path}, {"content-type", "application/grpc"}, {"te", "trailers"}})) +
           frame(h2::frame_type::data, h2::flags::end_stream, stream, std::string("\0\0\0\0\0", 5));
  };
  h.write_bytewise(h.client, in_order({preface, settings, call(1, "/test.Echo/Shout"), call(3, "/test.Echo/Say")}));
  h2::hpack_decoder server_decoder, client_decoder;
  auto at_server = frames_of(h.server.read(), server_decoder);
  REQUIRE(at_server.size() == 3);
  CHECK(at_server[1].headers[":path"] == "/test.Echo/Say");
  h.write_bytewise(h.server, settings);
  auto at_client = frames_of(h.client.read(), client_decoder);
  REQUIRE(at_client.size() == 4);
  CHECK(at_client[0].type == h2::frame_type::settings);
  CHECK(at_client[1].headers["grpc-status"] == "14");
  CHECK(at_client[1].headers["grpc-message"] == "down 100%25");
  CHECK(at_client[1].flags == (h2::flags::end_stream | h2::flags::end_headers));
  // Answered before the call's end: RST_STREAM NO_ERROR tells the client to stop sending.
  CHECK(at_client[2].type == h2::frame_type::rst_stream);
  CHECK(at_client[2].payload == std::string(4, '\0'));
  // The call's DATA never reached the server: its window goes back to the client.
  CHECK(at_client[3].type == h2::frame_type::window_update);
  CHECK(at_client[3].payload == std::string("\0\0\0\x05", 4));
}

TEST_CASE("HTTP/2 http_delay holds one stream while another on the connection goes on", "[faults][protocol]") {
  http_harness h;
  h.add(make<http_delay_toxic>({{"delay", std::chrono::nanoseconds(100ms)}, {"path", std::string("/slow")}, {"hold", std::string("request")}}));
  h.begin();
  table_encoder client;
  h.client.write(in_order({preface, settings, request(client, 1, "/slow"), request(client, 3, "/health")}));
  h.poll();
  h2::hpack_decoder server_decoder;
  auto first = frames_of(h.server.read(), server_decoder);
  REQUIRE(first.size() == 2);
  CHECK(first[1].headers[":path"] == "/health");
  CHECK(h.time_until(h.server, 1) >= 99ms);
  auto later = frames_of(h.server.read(), server_decoder);
  REQUIRE(later.size() == 1);
  CHECK(later[0].stream == 1);
  CHECK(later[0].headers[":path"] == "/slow");
}

TEST_CASE("HTTP/2 http_reset resets the stream after some body bytes and gives the server its window back", "[faults][protocol]") {
  http_harness h;
  auto counters = h.add(make<http_reset_toxic>({{"after", std::int64_t{10}}, {"path", std::string("/big")}}));
  h.begin();
  table_encoder client, server;
  h.write_bytewise(h.client, in_order({preface, settings, request(client, 1, "/big"), request(client, 3, "/health")}));
  h.server.read();
  h.write_bytewise(h.server, in_order({settings, response(server, 1, "200", false), response(server, 3, "200", false),
                                       frame(h2::frame_type::data, 0, 1, std::string(100, 'b')), frame(h2::frame_type::data, h2::flags::end_stream, 3, "ok"),
                                       frame(h2::frame_type::data, h2::flags::end_stream, 1, std::string(50, 'b'))}));
  h2::hpack_decoder client_decoder, server_decoder;
  auto at_client = frames_of(h.client.read(), client_decoder);
  REQUIRE(at_client.size() == 6);
  CHECK(at_client[3].type == h2::frame_type::data);
  CHECK(at_client[3].payload == std::string(10, 'b'));
  CHECK(at_client[4].type == h2::frame_type::rst_stream);
  CHECK(at_client[4].stream == 1);
  CHECK(at_client[5].stream == 3);
  CHECK(at_client[5].payload == "ok");
  auto at_server = frames_of(h.server.read(), server_decoder);
  REQUIRE(at_server.size() == 3);
  CHECK(at_server[0].type == h2::frame_type::window_update);
  CHECK(at_server[0].payload == std::string("\0\0\0\x5a", 4));  // 90 bytes the client never got
  CHECK(at_server[1].type == h2::frame_type::rst_stream);
  CHECK(at_server[2].payload == std::string("\0\0\0\x32", 4));  // the 50 that came after the reset
  CHECK(counters->snapshot().messages_affected_total == 1);
}

TEST_CASE("HTTP/2 after an h2c upgrade: the upgraded request goes on and later streams are followed", "[faults][protocol]") {
  http_harness h;
  h.add(make<http_abort_toxic>({{"path", std::string("/api/*")}}));
  h.begin();
  const std::string upgrade = "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
  table_encoder client, server;
  h.write_bytewise(h.client, upgrade);
  CHECK(h.server.read() == upgrade);
  const std::string switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
  h.write_bytewise(h.server, switching + settings + response(server, 1, "200", true));
  auto got = h.client.read();
  REQUIRE(got.rfind(switching, 0) == 0);
  h2::hpack_decoder client_decoder, server_decoder;
  auto at_client = frames_of(got.substr(switching.size()), client_decoder);
  REQUIRE(at_client.size() == 2);
  CHECK(at_client[1].stream == 1);
  CHECK(at_client[1].headers[":status"] == "200");
  h.write_bytewise(h.client, in_order({preface, settings, request(client, 3, "/api/x"), request(client, 5, "/")}));
  auto at_server = frames_of(h.server.read(), server_decoder);
  REQUIRE(at_server.size() == 2);
  CHECK(at_server[1].stream == 5);
  auto answer = frames_of(h.client.read(), client_decoder);
  REQUIRE(answer.size() == 1);
  CHECK(answer[0].stream == 3);
  CHECK(answer[0].headers[":status"] == "503");
}

TEST_CASE("HTTP/2 session gives the same bytes at every split, an aborted stream among them", "[faults][protocol]") {
  table_encoder ce, se;
  const std::string client = in_order({preface, settings, request(ce, 1, "/api/orders"), request(ce, 3, "/health", false),
                                        frame(h2::frame_type::data, h2::flags::end_stream | h2::flags::padded, 3, std::string("\x02" "body\0\0", 7))});
  const std::string server = settings + response(se, 3, "200", false) + frame(h2::frame_type::data, h2::flags::end_stream, 3, "ok");
  std::string want_server, want_client;
  for (std::size_t at = 0; at <= std::max(client.size(), server.size()); ++at) {
    INFO("split at " << at);
    http_harness h;
    auto counters = h.add(make<http_abort_toxic>({{"path", std::string("/api/*")}}));
    h.begin();
    const auto c = std::min(at, client.size());
    h.client.write(client.substr(0, c));
    h.poll();
    h.client.write(client.substr(c));
    h.poll();
    const auto s = std::min(at, server.size());
    h.server.write(server.substr(0, s));
    h.poll();
    h.server.write(server.substr(s));
    h.poll();
    auto got_server = h.server.read(), got_client = h.client.read();
    if (at == 0) {
      want_server = got_server;
      want_client = got_client;
      h2::hpack_decoder sd, cd;
      auto fs = frames_of(got_server, sd);
      REQUIRE(fs.size() == 3);
      CHECK(fs[1].headers[":path"] == "/health");
      CHECK(fs[2].payload == std::string("\x02" "body\0\0", 7));  // DATA passes as it came, padding and all
      auto fc = frames_of(got_client, cd);
      REQUIRE(fc.size() == 4);
    }
    CHECK(got_server == want_server);
    CHECK(got_client == want_client);
    CHECK(counters->snapshot().messages_affected_total == 1);
  }
}
