#include "probes/load_request.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <stdexcept>

namespace faultline::probes {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void add_literal(text_template& t, std::string_view text) {
  if (text.empty()) return;
  if (!t.empty() && t.back().type == template_part::kind::literal)
    t.back().text += text;
  else
    t.push_back({template_part::kind::literal, std::string(text), 0, 0});
}

std::string known_names(const template_scope& scope) {
  std::string out;
  if (scope.values)
    for (const auto& v : *scope.values) out += (out.empty() ? "" : ", ") + v.name;
  for (const auto& c : scope.captures) out += (out.empty() ? "" : ", ") + c;
  return out.empty() ? "none are declared; declare values under 'values:'" : "known: " + out;
}

template_part resolve(std::string_view reference, const template_scope& scope) {
  const auto dot = reference.find('.');
  const auto name = reference.substr(0, dot);
  const auto column = dot == std::string_view::npos ? std::string_view() : reference.substr(dot + 1);
  if (scope.values) {
    const auto& values = *scope.values;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i].name != name) continue;
      const auto& v = values[i];
      template_part p{template_part::kind::value, {}, i, 0};
      if (v.type == load_value::kind::csv) {
        if (column.empty()) {
          if (v.columns.size() != 1)
            throw std::invalid_argument(fmt::format("'${{{}}}' needs a column of the CSV file, e.g. ${{{}.{}}}", reference,
                                                    name, v.columns.front()));
        } else {
          const int c = v.column_of(column);
          if (c < 0) {
            std::string columns;
            for (const auto& n : v.columns) columns += (columns.empty() ? "" : ", ") + n;
            throw std::invalid_argument(fmt::format("'${{{}}}': the CSV file of '{}' has no column '{}' (columns: {})",
                                                    reference, name, column, columns));
          }
          p.column = static_cast<std::size_t>(c);
        }
      } else if (!column.empty()) {
        throw std::invalid_argument(fmt::format("'${{{}}}': only CSV values have columns; write ${{{}}}", reference, name));
      }
      return p;
    }
  }
  for (std::size_t i = 0; i < scope.captures.size(); ++i) {
    if (scope.captures[i] != name) continue;
    if (!column.empty()) throw std::invalid_argument(fmt::format("'${{{}}}': a captured value has no columns", reference));
    if (i >= scope.captured_before)
      throw std::invalid_argument(fmt::format("'${{{}}}' is used before the step that captures it; a journey's steps run in order",
                                              reference));
    return {template_part::kind::capture, {}, i, 0};
  }
  throw std::invalid_argument(fmt::format("'${{{}}}' names no value or capture ({})", reference, known_names(scope)));
}

}  // namespace

text_template parse_template(std::string_view text, const template_scope& scope) {
  text_template t;
  std::size_t from = 0;
  for (;;) {
    const auto open = text.find("${", from);
    if (open == std::string_view::npos) break;
    const auto close = text.find('}', open + 2);
    if (close == std::string_view::npos)
      throw std::invalid_argument(fmt::format("unterminated '${{' in '{}'; write ${{name}}", text));
    add_literal(t, text.substr(from, open - from));
    t.push_back(resolve(text.substr(open + 2, close - open - 2), scope));
    from = close + 1;
  }
  add_literal(t, text.substr(from));
  return t;
}

bool is_literal(const text_template& t) {
  return std::all_of(t.begin(), t.end(), [](const template_part& p) { return p.type == template_part::kind::literal; });
}

const param_schema& load_request_params() {
  static const param_schema schema{
      {"name", param_kind::text, "the request's name; its series is load.<name> (load.checkout.p95 in rules)", {}, true},
      {"weight", param_kind::number, "requests: its share of the mix (relative to the others' weights)", 1.0, false, 0.0},
      {"method", param_kind::choice, "HTTP method", std::string("GET"), false, {}, {},
       {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}},
      {"url", param_kind::text, "a path on the load's url (/orders/${id}) or a full URL on the same host and port", {}, true},
      {"headers", param_kind::text_map, "request headers (on top of the load's headers)"},
      {"body", param_kind::text, "request body"},
      {"expect.status", param_kind::integer, "status counted as ok (default: the load's, else any 2xx or 3xx)", {}, false, 100, 599},
      {"repeat", param_kind::integer, "journey: run this step so many times in a row", std::int64_t(1), false, 1, 1000},
      {"think_time", param_kind::duration, "journey: pause after this step (default: the load's think_time)", {}, false},
  };
  return schema;
}

load_request make_load_request(const params& p, std::vector<load_capture> captures, const http_url& origin,
                               const std::map<std::string, std::string>& common_headers, const template_scope& scope) {
  load_request r;
  r.name = p.text("name");
  r.weight = p.has("weight") ? p.number("weight") : 1.0;
  r.repeat = p.maybe<std::int64_t>("repeat").value_or(1);
  r.think_time = p.maybe<std::chrono::nanoseconds>("think_time");
  if (auto s = p.maybe<std::int64_t>("expect.status")) r.expect_status = static_cast<unsigned>(*s);
  r.captures = std::move(captures);

  const auto& url_text = p.text("url");
  http_url url = origin;
  if (url_text.starts_with("/")) {
    url.target = url_text;
  } else {
    try {
      url = parse_http_url(url_text);
    } catch (const std::invalid_argument& e) {
      throw param_error("url", fmt::format("{} (or write a path on the load's url, e.g. /orders/${{id}})", e.what()));
    }
    if (url.host != origin.host || url.port != origin.port)
      throw param_error("url", fmt::format("'{}' is on {}, the load's url on {}; all requests of a load share its "
                                           "connections, so they go to one host and port",
                                           url_text, url.authority(), origin.authority()));
  }
  auto headers = common_headers;
  for (const auto& [k, v] : p.maybe<std::map<std::string, std::string>>("headers").value_or(std::map<std::string, std::string>{})) {
    // The request's own field replaces a common one of the same name, whatever its case.
    for (auto it = headers.begin(); it != headers.end();)
      it = lower(it->first) == lower(k) ? headers.erase(it) : std::next(it);
    headers[k] = v;
  }
  const auto method = p.maybe<std::string>("method").value_or("GET");
  const auto body = p.maybe<std::string>("body").value_or("");
  try {
    r.head = parse_template(serialize_http_head(url, method, headers, true), scope);
  } catch (const std::invalid_argument& e) {
    throw param_error(url_text.find("${") != std::string::npos ? "url" : "headers", e.what());
  }
  try {
    r.body = parse_template(body, scope);
  } catch (const std::invalid_argument& e) {
    throw param_error("body", e.what());
  }
  r.content_length = wants_content_length(method, headers, !body.empty());
  if (is_literal(r.head) && is_literal(r.body)) r.fixed = serialize_http_request(url, method, headers, body, true);
  for (auto& c : r.captures)
    if (c.from == load_capture::source::header) c.where = lower(c.where);
  return r;
}

std::optional<std::string> capture_value(const load_capture& c, const http_reply& reply) {
  if (c.from == load_capture::source::header) {
    auto it = reply.headers.find(c.where);
    if (it == reply.headers.end()) return std::nullopt;
    return it->second;
  }
  auto doc = nlohmann::json::parse(reply.body, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  const nlohmann::json::json_pointer pointer(c.where);
  if (!doc.contains(pointer)) return std::nullopt;
  const auto& v = doc.at(pointer);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null() || v.is_object() || v.is_array()) return std::nullopt;
  return v.dump();  // numbers and booleans as JSON writes them
}

// ---- request_renderer -------------------------------------------------------------------------

request_renderer::request_renderer(const std::vector<load_value>& values, value_stream& stream)
    : values_(values), stream_(stream), drawn_(values.size()), drawn_at_(values.size(), 0) {}

std::int64_t request_renderer::drawn(std::size_t value) {
  if (drawn_at_[value] != render_) {
    drawn_[value] = stream_.draw(value);
    drawn_at_[value] = render_;
  }
  return drawn_[value];
}

void request_renderer::append(std::string& out, const text_template& t, const std::vector<std::string>& captured) {
  for (const auto& part : t) {
    switch (part.type) {
      case template_part::kind::literal:
        out += part.text;
        break;
      case template_part::kind::capture:
        if (part.index < captured.size()) out += captured[part.index];
        break;
      case template_part::kind::value: {
        const auto& v = values_[part.index];
        const auto n = drawn(part.index);
        if (v.type == load_value::kind::range || v.type == load_value::kind::sequence)
          fmt::format_to(std::back_inserter(out), "{}", n);
        else
          out += v.rows[static_cast<std::size_t>(n)][part.column];
        break;
      }
    }
  }
}

std::string_view request_renderer::render(const load_request& r, const std::vector<std::string>& captured, std::string& out) {
  if (!r.fixed.empty()) return r.fixed;
  ++render_;
  body_.clear();
  append(body_, r.body, captured);
  out.clear();
  append(out, r.head, captured);
  if (r.content_length) fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n", body_.size());
  out += "\r\n";
  out += body_;
  return out;
}

}  // namespace faultline::probes
