#pragma once
// A plain HTTP/1.1 client connection over Beast, shared by the http and metric probes and the
// load generator: keep-alive reuse, a deadline per exchange, and failures classified as
// outcomes (no exceptions for expected network errors).

#include "probes/sample.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace faultline::probes {

struct http_url {
  std::string host;    // without brackets for IPv6
  std::string port;    // "80" when not written
  std::string target;  // path and query, "/" when empty
  std::string authority() const;  // for the Host header
};

// Parses "http://host[:port][/path]". Throws std::invalid_argument with a message that says what
// is accepted (https is not supported: faultline's probes and load speak plain HTTP).
http_url parse_http_url(std::string_view text);

// The request line and header fields of a request, each ending in CRLF, without Content-Length and
// without the blank line that ends the head (the load generator completes it per request).
std::string serialize_http_head(const http_url& url, std::string_view method,
                                const std::map<std::string, std::string>& headers, bool keep_alive);
// Whether a request of this method and headers carries a Content-Length field.
bool wants_content_length(std::string_view method, const std::map<std::string, std::string>& headers, bool has_body);

// The bytes of one request, built once and sent as often as needed.
std::string serialize_http_request(const http_url& url, std::string_view method,
                                   const std::map<std::string, std::string>& headers, std::string_view body,
                                   bool keep_alive);

// What came back from one exchange.
struct http_reply {
  std::optional<outcome> failure;  // set when no complete response arrived (or it did not parse)
  unsigned status = 0;
  std::string body;                // only when asked for
  std::map<std::string, std::string> headers;  // only with the body; names in lower case
  std::uint64_t body_bytes = 0;
};

// Classifies a complete response: with `expected`, that status is ok and any other is http_5xx,
// http_4xx or unexpected_value; without, 2xx and 3xx are ok.
outcome classify_status(unsigned status, std::optional<unsigned> expected);

class http_connection {
public:
  http_connection(boost::asio::any_io_executor executor, http_url url);

  // Sends `request` (from serialize_http_request) and reads the response until `deadline`.
  // Connects first when needed; a reused keep-alive connection that the server had closed is
  // retried once on a fresh one. `keep_body` false discards the body (counting its bytes) and
  // parses without allocating. Never throws for network failures; they come back as outcomes.
  // A deadline of clock::time_point::max() arms no timer: the caller enforces its own deadline
  // with abort() (the load generator sweeps its connections instead of a timer per operation).
  boost::asio::awaitable<http_reply> exchange(std::string_view request, clock::time_point deadline,
                                              bool keep_body, std::size_t body_limit = 16u << 20);

  void close();
  // Ends the exchange in progress (it returns a timeout) and closes the connection.
  void abort();
  bool is_open() const { return open_; }
  std::uint64_t connects() const { return connects_; }  // successful connects so far
  const http_url& url() const { return url_; }

private:
  boost::asio::awaitable<std::optional<outcome>> connect(clock::time_point deadline);
  void expire(clock::time_point deadline);
  boost::asio::awaitable<http_reply> exchange_once(std::string_view request, clock::time_point deadline,
                                                   bool keep_body, std::size_t body_limit, bool& sent_nothing);

  http_url url_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::ip::tcp::resolver::results_type endpoints_;
  bool open_ = false;
  bool aborted_ = false;
  std::uint64_t connects_ = 0;
};

}  // namespace faultline::probes
