#include "probes/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace faultline::probes {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A response parser for the load generator: keeps the status, counts the body and ignores the
// header fields, so nothing is allocated per response (Beast still tracks keep-alive and framing).
class discarding_parser final : public http::basic_parser<false> {
public:
  unsigned status = 0;
  std::uint64_t body_bytes = 0;

private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int, beast::error_code& ec) override {
    ec = http::error::bad_method;
  }
  void on_response_impl(int code, beast::string_view, int, beast::error_code& ec) override {
    status = static_cast<unsigned>(code);
    ec = {};
  }
  void on_field_impl(http::field, beast::string_view, beast::string_view, beast::error_code& ec) override { ec = {}; }
  void on_header_impl(beast::error_code& ec) override { ec = {}; }
  void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code& ec) override { ec = {}; }
  std::size_t on_body_impl(beast::string_view body, beast::error_code& ec) override {
    body_bytes += body.size();
    ec = {};
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code& ec) override { ec = {}; }
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code& ec) override {
    body_bytes += body.size();
    ec = {};
    return body.size();
  }
  void on_finish_impl(beast::error_code& ec) override { ec = {}; }
};

outcome classify_error(const beast::error_code& ec) {
  if (ec == beast::error::timeout || ec == asio::error::timed_out || ec == asio::error::operation_aborted)
    return outcome::timeout;
  if (ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
      ec == asio::error::network_unreachable || ec == asio::error::host_not_found ||
      ec == asio::error::host_not_found_try_again || ec == boost::system::errc::address_not_available)
    return outcome::connect_refused;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::broken_pipe || ec == asio::error::connection_aborted)
    return outcome::reset;
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) return outcome::protocol_error;
  return outcome::reset;
}

// Kept out of the coroutines: GCC 12 misreads their frames' allocation when this loop is inlined.
void copy_fields(const http::fields& fields, std::map<std::string, std::string>& out) {
  for (const auto& field : fields) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out[std::move(name)] = std::string(field.value());
  }
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

// ---- URLs and requests ----------------------------------------------------------------------

std::string http_url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  const auto h = v6 ? "[" + host + "]" : host;
  return port == "80" ? h : h + ":" + port;
}

http_url parse_http_url(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument(fmt::format("'{}' is not a usable URL: {} (write http://host:port/path, e.g. "
                                             "http://127.0.0.1:8080/health)", text, why));
  };
  constexpr std::string_view scheme = "http://";
  if (text.starts_with("https://")) throw bad("https is not supported; probes and load speak plain HTTP");
  if (!text.starts_with(scheme)) throw bad("it must start with http://");
  auto rest = text.substr(scheme.size());
  const auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  http_url url;
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url.target.front() == '?') url.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) throw bad("user information in URLs is not supported; use headers");
  std::string_view port;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw bad("missing ']' after the IPv6 address");
    url.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad("expected ':port' after ']'");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (url.host.find(':') != std::string::npos) throw bad("write IPv6 addresses in brackets, e.g. http://[::1]:8080/");
  }
  if (url.host.empty()) throw bad("no host");
  if (!port.empty()) {
    if (!is_digits(port) || port.size() > 5 || std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535)
      throw bad("the port must be a number from 1 to 65535");
    url.port = std::string(port);
  } else {
    url.port = "80";
  }
  return url;
}

namespace {
bool has_header(const std::map<std::string, std::string>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) {
    return h.first.size() == name.size() &&
           std::equal(h.first.begin(), h.first.end(), name.begin(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  });
}
}  // namespace

std::string serialize_http_head(const http_url& url, std::string_view method,
                                const std::map<std::string, std::string>& headers, bool keep_alive) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\n", method, url.target);
  if (!has_header(headers, "host")) out += fmt::format("Host: {}\r\n", url.authority());
  if (!has_header(headers, "user-agent")) out += "User-Agent: faultline\r\n";
  for (const auto& [name, value] : headers) out += fmt::format("{}: {}\r\n", name, value);
  if (!keep_alive && !has_header(headers, "connection")) out += "Connection: close\r\n";
  return out;
}

bool wants_content_length(std::string_view method, const std::map<std::string, std::string>& headers, bool has_body) {
  return (has_body || method == "POST" || method == "PUT" || method == "PATCH") && !has_header(headers, "content-length");
}

std::string serialize_http_request(const http_url& url, std::string_view method,
                                   const std::map<std::string, std::string>& headers, std::string_view body,
                                   bool keep_alive) {
  std::string out = serialize_http_head(url, method, headers, keep_alive);
  if (wants_content_length(method, headers, !body.empty())) out += fmt::format("Content-Length: {}\r\n", body.size());
  out += "\r\n";
  out += body;
  return out;
}

outcome classify_status(unsigned status, std::optional<unsigned> expected) {
  if (expected) {
    if (status == *expected) return outcome::ok;
  } else if (status >= 200 && status < 400) {
    return outcome::ok;
  }
  if (status >= 500) return outcome::http_5xx;
  if (status >= 400) return outcome::http_4xx;
  return expected ? outcome::unexpected_value : outcome::protocol_error;
}

// ---- http_connection ------------------------------------------------------------------------

http_connection::http_connection(asio::any_io_executor executor, http_url url)
    : url_(std::move(url)), stream_(std::move(executor)) {}

void http_connection::abort() {
  beast::error_code ignored;
  stream_.socket().cancel(ignored);
  aborted_ = true;
  close();
}

void http_connection::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  buffer_.clear();
  open_ = false;
}

void http_connection::expire(clock::time_point deadline) {
  if (deadline == clock::time_point::max())
    stream_.expires_never();
  else
    stream_.expires_at(deadline);
}

asio::awaitable<std::optional<outcome>> http_connection::connect(clock::time_point deadline) {
  if (endpoints_.empty()) {
    beast::error_code ec;
    auto address = asio::ip::make_address(url_.host, ec);
    if (!ec) {
      endpoints_ = tcp::resolver::results_type::create(tcp::endpoint(address, static_cast<std::uint16_t>(std::stoi(url_.port))),
                                                       url_.host, url_.port);
    } else {
      tcp::resolver resolver(stream_.get_executor());
      auto [rec, results] = co_await resolver.async_resolve(url_.host, url_.port, use_tuple);
      if (rec) co_return outcome::connect_refused;
      endpoints_ = std::move(results);
    }
  }
  expire(deadline);
  auto [ec, endpoint] = co_await stream_.async_connect(endpoints_, use_tuple);
  if (ec) {
    close();
    co_return aborted_ ? outcome::timeout : classify_error(ec);
  }
  beast::error_code ignored;
  stream_.socket().set_option(tcp::no_delay(true), ignored);
  open_ = true;
  ++connects_;
  co_return std::nullopt;
}

asio::awaitable<http_reply> http_connection::exchange(std::string_view request, clock::time_point deadline,
                                                      bool keep_body, std::size_t body_limit) {
  const bool reused = open_;
  aborted_ = false;
  bool sent_nothing = false;
  auto reply = co_await exchange_once(request, deadline, keep_body, body_limit, sent_nothing);
  // A keep-alive connection the server closed while idle: try once more on a fresh one.
  if (reused && reply.failure == outcome::reset && sent_nothing && clock::now() < deadline && !aborted_)
    reply = co_await exchange_once(request, deadline, keep_body, body_limit, sent_nothing);
  co_return reply;
}

asio::awaitable<http_reply> http_connection::exchange_once(std::string_view request, clock::time_point deadline,
                                                           bool keep_body, std::size_t body_limit, bool& nothing_back) {
  http_reply reply;
  nothing_back = false;
  if (!open_) {
    if (auto failure = co_await connect(deadline)) {
      reply.failure = failure;
      co_return reply;
    }
  }
  expire(deadline);
  auto [wec, written] = co_await asio::async_write(stream_, asio::buffer(request.data(), request.size()), use_tuple);
  if (wec) {
    close();
    nothing_back = true;
    reply.failure = aborted_ ? outcome::timeout : classify_error(wec);
    co_return reply;
  }
  bool keep_alive = false;
  beast::error_code rec;
  bool got_some = false;
  if (keep_body) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    std::tie(rec, std::ignore) = co_await http::async_read(stream_, buffer_, parser, use_tuple);
    got_some = parser.got_some();
    if (!rec) {
      reply.status = parser.get().result_int();
      reply.body = std::move(parser.get().body());
      copy_fields(parser.get(), reply.headers);
      reply.body_bytes = reply.body.size();
      keep_alive = parser.keep_alive();
    }
  } else {
    discarding_parser parser;
    parser.body_limit(boost::none);
    std::tie(rec, std::ignore) = co_await http::async_read(stream_, buffer_, parser, use_tuple);
    got_some = parser.got_some();
    if (!rec) {
      reply.status = parser.status;
      reply.body_bytes = parser.body_bytes;
      keep_alive = parser.keep_alive();
    }
  }
  if (rec) {
    close();
    nothing_back = !got_some;
    reply.failure = aborted_ ? outcome::timeout : classify_error(rec);
    co_return reply;
  }
  if (!keep_alive) close();
  co_return reply;
}

}  // namespace faultline::probes
