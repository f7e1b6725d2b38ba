#pragma once
// The HTTP and gRPC message-level toxics, each with its descriptor: immutable settings the http
// session applies per request (an HTTP/1.1 request or an HTTP/2 stream). http_abort answers
// instead of the server, http_delay holds the request or the response, http_reset cuts the
// response short, http_rate_limit lets a rate through and answers the rest 429; grpc_abort
// answers a gRPC call with a status in trailers, grpc_delay holds it. HTTP requests are chosen by
// a request_match (method, path glob or regex, header values), gRPC calls by a grpc_match.

#include "faults/protocol/message_toxic.hpp"
#include "faults/protocol/pattern.hpp"
#include "faults/proxy/toxic_descriptor.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline::protocol::http {

inline constexpr std::string_view protocol_name = "http";

using header_fields = std::vector<std::pair<std::string, std::string>>;

// A request as toxics see it, whichever HTTP version carried it.
struct request_view {
  std::string_view method;
  std::string_view path;  // the request target's path, without the query
  const header_fields* headers = nullptr;  // as sent (HTTP/2: without pseudo-headers)

  // Every value of a header (names compare case-insensitively).
  std::vector<std::string_view> values(std::string_view name) const;
  // content-type application/grpc (or application/grpc+proto, ...): a gRPC call.
  bool grpc() const;
  // "/helloworld.Greeter/SayHello" -> "helloworld.Greeter" and "SayHello"; empty when the path
  // is not of that shape.
  std::string_view grpc_service() const;
  std::string_view grpc_method() const;
  // "GET /api/orders": the route evidence is counted by (paths longer than 100 bytes are cut).
  std::string route() const;
};

// What the client gets instead of the server's answer.
struct local_answer {
  int status = 503;
  header_fields headers;  // besides the status and the framing (Content-Length)
  std::string body;
};

// Which HTTP requests a toxic acts on: methods (none: any), a glob on the path (none: any), a
// regular expression the whole path must match (none: any), and header values (name: glob;
// the header must be there with a matching value). All given must hold.
class request_match {
public:
  // The `method`, `path`, `path_regex` and `headers` parameters.
  static std::vector<proxy::toxic_param> params_for();
  explicit request_match(const params& p);  // throws param_error naming the parameter
  bool matches(const request_view& r) const;

private:
  std::vector<std::string> methods_;
  std::string path_;
  regex_pattern path_regex_;
  std::map<std::string, std::string> headers_;  // lower-case name -> glob
};

// Which gRPC calls a toxic acts on: requests with content-type application/grpc whose service
// and method (globs; none: any) and metadata (name: glob) match.
class grpc_match {
public:
  // The `service`, `rpc` and `metadata` parameters.
  static std::vector<proxy::toxic_param> params_for();
  explicit grpc_match(const params& p);  // throws param_error
  bool matches(const request_view& r) const;

private:
  std::string service_;
  std::string rpc_;
  std::map<std::string, std::string> metadata_;
};

// Every http and grpc toxic: it chooses requests.
class request_toxic : public proxy::toxic_config {
public:
  virtual bool matches(const request_view& r) const = 0;

protected:
  using proxy::toxic_config::toxic_config;
};

template <typename Match>
class matching_request_toxic : public request_toxic {
public:
  bool matches(const request_view& r) const override { return match_.matches(r); }

protected:
  matching_request_toxic(const proxy::toxic_descriptor& type, const params& p) : request_toxic(type, p), match_(p) {}

private:
  Match match_;
};

class http_abort_toxic final : public matching_request_toxic<request_match> {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit http_abort_toxic(const params& p);  // throws param_error
  const local_answer& answer() const { return answer_; }

private:
  local_answer answer_;
};

// Which part of an exchange a delay holds.
enum class hold_point { request, response };

class http_delay_toxic final : public matching_request_toxic<request_match>, public message_delay {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit http_delay_toxic(const params& p);
  hold_point hold() const { return hold_; }

private:
  hold_point hold_;
};

class http_reset_toxic final : public matching_request_toxic<request_match> {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit http_reset_toxic(const params& p);
  std::uint64_t after() const { return after_; }  // response body bytes that reach the client first
  bool reset() const { return reset_; }           // RST, not FIN, when the connection is cut

private:
  std::uint64_t after_;
  bool reset_;
};

// A token bucket shared by every connection of the proxy (GCRA: one atomic time): `rate` per
// second under a steady load, at most `burst` at once after a quiet spell; starts full.
class http_rate_limit_toxic final : public matching_request_toxic<request_match> {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit http_rate_limit_toxic(const params& p);  // throws param_error for a rate of 0
  // Takes a token at `now`: nothing when the request may pass, otherwise how long until one.
  std::optional<proxy::duration> admit(proxy::time_point now) const;
  // The 429 for a refused request.
  local_answer refusal(proxy::duration wait) const;

private:
  proxy::duration interval_;  // between two tokens
  proxy::duration tolerance_;  // (burst - 1) intervals
  double rate_;
  std::shared_ptr<std::atomic<std::int64_t>> next_;  // theoretical arrival time (ns since the clock's epoch)
};

class grpc_abort_toxic final : public matching_request_toxic<grpc_match> {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit grpc_abort_toxic(const params& p);  // throws param_error
  const local_answer& answer() const { return answer_; }  // a Trailers-Only response

private:
  local_answer answer_;
};

class grpc_delay_toxic final : public matching_request_toxic<grpc_match>, public message_delay {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit grpc_delay_toxic(const params& p);
  hold_point hold() const { return hold_; }

private:
  hold_point hold_;
};

}  // namespace faultline::protocol::http
