#pragma once
// The requests of a load: each a template of its bytes in which ${name} is a declared value
// (load_values) or, in a journey, a value captured from an earlier response of the same virtual
// user (a JSON pointer into the body, or a header). A request with nothing to fill in is
// serialised once; the others are rendered per request into the connection's own buffer.

#include "core/params.hpp"
#include "probes/http_client.hpp"
#include "probes/load_values.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::probes {

// A value taken from a response for the user's later requests.
struct load_capture {
  enum class source { json, header };
  std::string name;
  source from = source::json;
  std::string where;  // a JSON pointer, or a header name in lower case
  std::size_t slot = 0;  // its place among the journey's captures (the user keeps one value per slot)
};

struct template_part {
  enum class kind : std::uint8_t { literal, value, capture };
  kind type = kind::literal;
  std::string text;        // literal
  std::size_t index = 0;   // which value or capture
  std::size_t column = 0;  // the cell of a list or CSV row
};
using text_template = std::vector<template_part>;

// The names a template may use: the load's values and, in a journey, every capture of the journey
// (`captured_before` of them by earlier steps; a later one is an error).
struct template_scope {
  const std::vector<load_value>* values = nullptr;
  std::vector<std::string> captures;
  std::size_t captured_before = 0;
};

// Splits `text` at ${name} and ${name.column}. Throws std::invalid_argument naming an unknown
// name (with the known ones), a column the CSV does not have, or a capture used too early.
text_template parse_template(std::string_view text, const template_scope& scope);
bool is_literal(const text_template& t);

struct load_request {
  std::string name;  // its series is load.<name>; empty in the single-URL form
  double weight = 1;
  text_template head;  // request line and header fields, without Content-Length and the blank line
  text_template body;
  bool content_length = false;
  std::string fixed;  // the whole request when nothing in it varies; empty otherwise
  std::optional<unsigned> expect_status;
  std::vector<load_capture> captures;
  std::int64_t repeat = 1;                              // journey: runs of this step in a row
  std::optional<std::chrono::nanoseconds> think_time;   // journey: pause after this step
  bool keeps_response() const { return !captures.empty(); }
};

// The keys of one entry of `requests:` or `journey:` (besides `capture`).
const param_schema& load_request_params();

// One request from its parameters. `origin` is the load's URL: a request's url is a path on it
// ("/orders/${id}") or a full URL with the same host and port; `common_headers` go into every
// request that does not set them itself. Throws param_error naming the parameter.
load_request make_load_request(const params& p, std::vector<load_capture> captures, const http_url& origin,
                               const std::map<std::string, std::string>& common_headers, const template_scope& scope);

// The value a capture takes from a complete response; none when it is not there.
std::optional<std::string> capture_value(const load_capture& c, const http_reply& reply);

// Renders requests for one worker: the values a request uses are drawn once per request (so
// ${customer.email} and ${customer.password} come from the same row).
class request_renderer {
public:
  request_renderer(const std::vector<load_value>& values, value_stream& stream);
  // The request's bytes: `r.fixed`, or rendered into `out` (which must outlive the send).
  std::string_view render(const load_request& r, const std::vector<std::string>& captured, std::string& out);

private:
  void append(std::string& out, const text_template& t, const std::vector<std::string>& captured);
  std::int64_t drawn(std::size_t value);

  const std::vector<load_value>& values_;
  value_stream& stream_;
  std::vector<std::int64_t> drawn_;
  std::vector<std::uint64_t> drawn_at_;  // the render in which drawn_[i] was drawn
  std::uint64_t render_ = 0;
  std::string body_;
};

}  // namespace faultline::probes
