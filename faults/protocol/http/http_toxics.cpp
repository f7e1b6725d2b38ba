#include "faults/protocol/http/http_toxics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>

namespace faultline::protocol::http {

namespace {

const std::string http(protocol_name);

bool same_letters(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y)); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// RFC 9110 token characters: what method and header names are made of.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// name: glob, with names checked and lower-cased.
std::map<std::string, std::string> header_globs(const std::map<std::string, std::string>& given, const char* param) {
  std::map<std::string, std::string> out;
  for (const auto& [name, glob] : given) {
    if (!is_token(name)) throw param_error(param, fmt::format("'{}' is not a header name (letters, digits and -, e.g. x-canary)", name));
    out[lower(name)] = glob;
  }
  return out;
}

bool headers_match(const std::map<std::string, std::string>& globs, const request_view& r) {
  for (const auto& [name, glob] : globs) {
    auto values = r.values(name);
    const std::string& pattern = glob;  // (clang 14, which builds the fuzzer, cannot capture a structured binding)
    if (std::none_of(values.begin(), values.end(), [&](std::string_view v) { return glob_match(pattern, v); })) return false;
  }
  return true;
}

std::vector<proxy::toxic_param> with(std::vector<proxy::toxic_param> own, std::vector<proxy::toxic_param> match) {
  for (auto& p : match) own.push_back(std::move(p));
  return own;
}

proxy::toxic_param hold_param() {
  return proxy::choice_param("hold", "request: held before it reaches the server; response: held before its headers reach the client",
                             "response", {"request", "response"});
}

hold_point hold_of(const params& p) { return p.text("hold") == "request" ? hold_point::request : hold_point::response; }

void add_content_type(local_answer& a, const char* type) {
  if (a.body.empty()) return;
  for (const auto& [name, value] : a.headers)
    if (same_letters(name, "content-type")) return;
  a.headers.emplace_back("content-type", type);
}

proxy::toxic_effect answered(const proxy::toxic_stats& s, const char* how) {
  return affected(s, fmt::format("{} {}", s.messages_affected_total, how));
}

}  // namespace

// ---- requests -------------------------------------------------------------------------------

std::vector<std::string_view> request_view::values(std::string_view name) const {
  std::vector<std::string_view> out;
  if (!headers) return out;
  for (const auto& [n, v] : *headers)
    if (same_letters(n, name)) out.push_back(v);
  return out;
}

bool request_view::grpc() const {
  constexpr std::string_view grpc_type = "application/grpc";
  for (auto t : values("content-type"))
    if (t.size() >= grpc_type.size() && same_letters(t.substr(0, grpc_type.size()), grpc_type) &&
        (t.size() == grpc_type.size() || t[grpc_type.size()] == '+' || t[grpc_type.size()] == ';'))
      return true;
  return false;
}

std::string_view request_view::grpc_service() const {
  if (path.size() < 2 || path[0] != '/') return {};
  auto slash = path.rfind('/');
  return slash == 0 ? std::string_view() : path.substr(1, slash - 1);
}

std::string_view request_view::grpc_method() const {
  if (grpc_service().empty()) return {};
  return path.substr(path.rfind('/') + 1);
}

std::string request_view::route() const {
  constexpr std::size_t longest = 100;
  std::string out(method);
  out += ' ';
  out += path.substr(0, longest);
  if (path.size() > longest) out += "...";
  return out;
}

std::vector<proxy::toxic_param> request_match::params_for() {
  return {
      proxy::list_param("method", "HTTP methods the fault acts on, e.g. [GET, HEAD]; default: every method"),
      proxy::text_param("path", "glob the request path (without the query) must match, e.g. '/api/*'; default: any", ""),
      proxy::text_param("path_regex", "regular expression the whole path must match, e.g. '/orders/[0-9]+'; default: any", ""),
      proxy::map_param("headers", "header values that must match, name: glob, e.g. {x-canary: 'true'}; default: none"),
  };
}

request_match::request_match(const params& p)
    : path_(p.text("path")), path_regex_("path_regex", p.text("path_regex"), false), headers_(header_globs(p.map("headers"), "headers")) {
  for (const auto& m : p.list("method")) {
    if (!is_token(m)) throw param_error("method", fmt::format("'{}' is not an HTTP method (one word, e.g. GET)", m));
    methods_.push_back(upper(m));
  }
  if (!path_.empty() && path_[0] != '/' && path_[0] != '*')
    throw param_error("path", fmt::format("'{}' cannot match a request path: paths start with '/', e.g. '/api/*'", path_));
}

bool request_match::matches(const request_view& r) const {
  if (!methods_.empty() && std::find(methods_.begin(), methods_.end(), upper(r.method)) == methods_.end()) return false;
  if (!path_.empty() && !glob_match(path_, r.path)) return false;
  if (!path_regex_.full_match(r.path)) return false;
  return headers_match(headers_, r);
}

std::vector<proxy::toxic_param> grpc_match::params_for() {
  return {
      proxy::text_param("service", "glob on the gRPC service, package included, e.g. 'helloworld.Greeter'; default: any", ""),
      proxy::text_param("rpc", "glob on the gRPC method, e.g. 'SayHello'; default: any", ""),
      proxy::map_param("metadata", "metadata values that must match, name: glob, e.g. {x-canary: 'true'}; default: none"),
  };
}

grpc_match::grpc_match(const params& p) : service_(p.text("service")), rpc_(p.text("rpc")), metadata_(header_globs(p.map("metadata"), "metadata")) {
  if (service_.find('/') != std::string::npos)
    throw param_error("service", fmt::format("'{}' is not a gRPC service name: write it without slashes, e.g. 'helloworld.Greeter'", service_));
  if (rpc_.find('/') != std::string::npos)
    throw param_error("rpc", fmt::format("'{}' is not a gRPC method name: write it without slashes, e.g. 'SayHello'", rpc_));
}

bool grpc_match::matches(const request_view& r) const {
  if (!r.grpc() || r.grpc_service().empty()) return false;
  if (!service_.empty() && !glob_match(service_, r.grpc_service())) return false;
  if (!rpc_.empty() && !glob_match(rpc_, r.grpc_method())) return false;
  return headers_match(metadata_, r);
}

// ---- http_abort -----------------------------------------------------------------------------

const proxy::toxic_descriptor& http_abort_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "http_abort",
      .summary = "answer matching HTTP requests with a status (and optional body and headers) instead of the server",
      .protocol = http,
      .noun = "request",
      .params = with(
          {
              proxy::integer_param("status", "HTTP status of the answer", 503, 200, 599),
              proxy::text_param("body", "body of the answer; default: none", ""),
              proxy::map_param("response_headers", "headers of the answer, e.g. {Retry-After: '5'}; default: none"),
          },
          request_match::params_for()),
      .make = proxy::made_of<http_abort_toxic>(),
      .describe = [](const proxy::toxic_stats& s) { return answered(s, "answered by the fault"); },
  };
  return d;
}

http_abort_toxic::http_abort_toxic(const params& p) : matching_request_toxic(type_descriptor(), p) {
  answer_.status = static_cast<int>(p.integer("status"));
  answer_.body = p.text("body");
  for (const auto& [name, value] : p.map("response_headers")) {
    if (!is_token(name)) throw param_error("response_headers", fmt::format("'{}' is not a header name (letters, digits and -)", name));
    const auto l = lower(name);
    if (l == "content-length" || l == "transfer-encoding" || l == "connection" || l == "keep-alive" || l == "upgrade")
      throw param_error("response_headers", fmt::format("'{}' is set by the proxy (it frames the answer); leave it out", name));
    if (value.find_first_of("\r\n") != std::string::npos)
      throw param_error("response_headers", fmt::format("the value of '{}' must be one line", name));
    answer_.headers.emplace_back(name, value);
  }
  add_content_type(answer_, "text/plain; charset=utf-8");
}

// ---- http_delay -----------------------------------------------------------------------------

const proxy::toxic_descriptor& http_delay_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "http_delay",
      .summary = "hold matching HTTP requests, or their responses, for a delay (+/- jitter); other requests go on",
      .protocol = http,
      .noun = "request",
      .params = with(with(message_delay::params_for("the request or the response"), {hold_param()}), request_match::params_for()),
      .make = proxy::made_of<http_delay_toxic>(),
      .describe = delayed,
  };
  return d;
}

http_delay_toxic::http_delay_toxic(const params& p) : matching_request_toxic(type_descriptor(), p), message_delay(p), hold_(hold_of(p)) {}

// ---- http_reset -----------------------------------------------------------------------------

const proxy::toxic_descriptor& http_reset_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "http_reset",
      .summary = "cut the response to matching HTTP requests short: close or reset the connection after some body bytes",
      .protocol = http,
      .noun = "request",
      .params = with(
          {
              proxy::size_param("after", "bytes of the response body that reach the client before the cut", 0),
              proxy::choice_param("mode", "reset (RST) or close (FIN) the connection", "reset", {"reset", "close"}),
          },
          request_match::params_for()),
      .make = proxy::made_of<http_reset_toxic>(),
      .describe = [](const proxy::toxic_stats& s) {
        return affected(s, fmt::format("{} responses cut ({} connections reset, {} closed)", s.messages_affected_total,
                                       s.connections_reset_total, s.connections_closed_total));
      },
  };
  return d;
}

http_reset_toxic::http_reset_toxic(const params& p)
    : matching_request_toxic(type_descriptor(), p),
      after_(static_cast<std::uint64_t>(p.integer("after"))),
      reset_(p.text("mode") != "close") {}

// ---- http_rate_limit ------------------------------------------------------------------------

const proxy::toxic_descriptor& http_rate_limit_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "http_rate_limit",
      .summary = "let matching HTTP requests through at a rate (token bucket over every connection of the proxy), answer the rest 429",
      .protocol = http,
      .noun = "request",
      .params = with(
          {
              proxy::rate_param("rate", "requests let through per second, e.g. 100/s", std::nullopt, 0.0, 1e6),
              proxy::integer_param("burst", "requests let through at once after a quiet spell (the bucket's size)", 1, 1, 1'000'000),
          },
          request_match::params_for()),
      .make = proxy::made_of<http_rate_limit_toxic>(),
      .describe = [](const proxy::toxic_stats& s) { return answered(s, "answered 429 over the rate"); },
  };
  return d;
}

http_rate_limit_toxic::http_rate_limit_toxic(const params& p)
    : matching_request_toxic(type_descriptor(), p), rate_(p.number("rate")), next_(std::make_shared<std::atomic<std::int64_t>>(std::numeric_limits<std::int64_t>::min())) {
  if (!(rate_ >= 0.001)) throw param_error("rate", "the rate must be at least 0.001/s (one request in 1000 s); to refuse every request use http_abort with status 429");
  interval_ = std::chrono::duration_cast<proxy::duration>(std::chrono::duration<double>(1.0 / rate_));
  if (interval_.count() < 1) interval_ = proxy::duration(1);
  tolerance_ = interval_ * (p.integer("burst") - 1);
}

std::optional<proxy::duration> http_rate_limit_toxic::admit(proxy::time_point now) const {
  const std::int64_t t = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const std::int64_t step = std::chrono::duration_cast<std::chrono::nanoseconds>(interval_).count();
  const std::int64_t slack = std::chrono::duration_cast<std::chrono::nanoseconds>(tolerance_).count();
  auto due = next_->load(std::memory_order_relaxed);
  for (;;) {
    // A request less than one interval after its token was due keeps the schedule: that lateness
    // is arrival jitter, and restarting the schedule at `t` would lose it (at 500/s arriving, a
    // 100/s limit let only ~90/s through). After a longer quiet spell the schedule restarts at `t`.
    const auto from = due < t - step ? t : due;
    if (from - slack > t) return std::chrono::duration_cast<proxy::duration>(std::chrono::nanoseconds(from - slack - t));
    if (next_->compare_exchange_weak(due, from + step, std::memory_order_relaxed)) return std::nullopt;
  }
}

local_answer http_rate_limit_toxic::refusal(proxy::duration wait) const {
  local_answer a;
  a.status = 429;
  const auto seconds = std::max<std::int64_t>(1, (std::chrono::duration_cast<std::chrono::milliseconds>(wait).count() + 999) / 1000);
  a.headers.emplace_back("retry-after", std::to_string(seconds));
  a.body = fmt::format("Too Many Requests: over {} ({})\n", format_param(param_kind::rate, rate_), "rate limited by faultline");
  add_content_type(a, "text/plain; charset=utf-8");
  return a;
}

// ---- gRPC -----------------------------------------------------------------------------------

namespace {

// gRPC status codes by name, OK = 0 ... UNAUTHENTICATED = 16.
const std::vector<std::string>& grpc_code_names() {
  static const std::vector<std::string> names{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                                              "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                              "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                              "UNAUTHENTICATED"};
  return names;
}

// grpc-message's percent-encoding (gRPC over HTTP/2): printable ASCII but '%' as it is.
std::string grpc_percent_encode(std::string_view message) {
  std::string out;
  for (unsigned char c : message) {
    if (c >= 0x20 && c <= 0x7e && c != '%') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace

const proxy::toxic_descriptor& grpc_abort_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "grpc_abort",
      .summary = "answer matching gRPC calls (HTTP/2) with a status code and message in trailers instead of the server",
      .protocol = http,
      .noun = "call",
      .params = with(
          {
              proxy::choice_param("code", "gRPC status code", "UNAVAILABLE",
                                  std::vector<std::string>(grpc_code_names().begin() + 1, grpc_code_names().end())),
              proxy::text_param("message", "grpc-message the client sees; default: none", ""),
          },
          grpc_match::params_for()),
      .make = proxy::made_of<grpc_abort_toxic>(),
      .describe = [](const proxy::toxic_stats& s) { return answered(s, "answered with the gRPC status"); },
  };
  return d;
}

grpc_abort_toxic::grpc_abort_toxic(const params& p) : matching_request_toxic(type_descriptor(), p) {
  const auto& names = grpc_code_names();
  auto it = std::find(names.begin() + 1, names.end(), upper(p.text("code")));
  if (it == names.end())
    throw param_error("code", fmt::format("unknown gRPC status code '{}' (known: {})", p.text("code"), fmt::join(names.begin() + 1, names.end(), ", ")));
  // Trailers-Only: the status is in the one HEADERS frame that ends the stream.
  answer_.status = 200;
  answer_.headers = {{"content-type", "application/grpc"}, {"grpc-status", std::to_string(it - names.begin())}};
  if (!p.text("message").empty()) answer_.headers.emplace_back("grpc-message", grpc_percent_encode(p.text("message")));
}

const proxy::toxic_descriptor& grpc_delay_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "grpc_delay",
      .summary = "hold matching gRPC calls (HTTP/2), or their responses, for a delay (+/- jitter); other calls go on",
      .protocol = http,
      .noun = "call",
      .params = with(with(message_delay::params_for("the call or its response"), {hold_param()}), grpc_match::params_for()),
      .make = proxy::made_of<grpc_delay_toxic>(),
      .describe = delayed,
  };
  return d;
}

grpc_delay_toxic::grpc_delay_toxic(const params& p) : matching_request_toxic(type_descriptor(), p), message_delay(p), hold_(hold_of(p)) {}

}  // namespace faultline::protocol::http
