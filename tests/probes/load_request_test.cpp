// Load requests: ${...} templates (names, columns, captures), rendering with Content-Length,
// the fixed form, and values captured from responses.

#include "probes/load_request.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace faultline;
using namespace faultline::probes;

namespace {

load_value csv_value() {
  load_value v;
  v.name = "user";
  v.type = load_value::kind::csv;
  v.columns = {"email", "password"};
  v.rows = {{"ann@example.com", "secret"}};
  return v;
}

load_value range_value() {
  load_value v;
  v.name = "id";
  v.type = load_value::kind::range;
  v.low = v.high = 42;
  return v;
}

params request(const std::string& url, const std::string& method = "GET", const std::string& body = "",
               std::map<std::string, std::string> headers = {}) {
  params p;
  p.set("name", std::string("r"));
  p.set("url", url);
  p.set("method", method);
  if (!body.empty()) p.set("body", body);
  p.set("headers", headers);
  return p;
}

}  // namespace

TEST_CASE("templates resolve values, CSV columns and captures, and reject what they cannot", "[probes]") {
  const std::vector<load_value> values{range_value(), csv_value()};
  template_scope scope{&values, {"token"}, 1};
  auto t = parse_template("/orders/${id}?u=${user.email}&t=${token}", scope);
  REQUIRE(t.size() == 6);
  CHECK(t[1].type == template_part::kind::value);
  CHECK(t[3].column == 0);
  CHECK(t[5].type == template_part::kind::capture);
  CHECK(is_literal(parse_template("/plain", scope)));

  const auto error_of = [&](const std::string& text, template_scope s) {
    try {
      parse_template(text, s);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(error_of("/${nope}", scope) == "'${nope}' names no value or capture (known: id, user, token)");
  CHECK(error_of("/${user}", scope) == "'${user}' needs a column of the CSV file, e.g. ${user.email}");
  CHECK(error_of("/${user.age}", scope) == "'${user.age}': the CSV file of 'user' has no column 'age' (columns: email, password)");
  CHECK(error_of("/${id.x}", scope) == "'${id.x}': only CSV values have columns; write ${id}");
  CHECK(error_of("/${token}", template_scope{&values, {"token"}, 0}) ==
        "'${token}' is used before the step that captures it; a journey's steps run in order");
  CHECK(error_of("/${id", scope) == "unterminated '${' in '/${id'; write ${name}");
}

TEST_CASE("requests render with their values, one draw per request, and a computed Content-Length", "[probes]") {
  const std::vector<load_value> values{range_value(), csv_value()};
  const auto origin = parse_http_url("http://127.0.0.1:8080/");
  auto r = make_load_request(request("/login/${id}", "POST", R"({"email":"${user.email}","password":"${user.password}"})",
                                     {{"X-Id", "${id}"}}),
                             {}, origin, {{"Authorization", "Bearer common"}}, template_scope{&values, {}, 0});
  CHECK(r.fixed.empty());
  auto counters = std::make_unique<std::atomic<std::int64_t>[]>(values.size());
  value_stream stream(values, counters.get(), 1);
  request_renderer renderer(values, stream);
  std::string buffer;
  const auto bytes = std::string(renderer.render(r, {}, buffer));
  const std::string body = R"({"email":"ann@example.com","password":"secret"})";
  CHECK(bytes == "POST /login/42 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: faultline\r\nAuthorization: Bearer common\r\n"
                 "X-Id: 42\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);

  // Nothing to fill in: serialised once, as the probes serialise theirs.
  auto fixed = make_load_request(request("/health"), {}, origin, {}, template_scope{&values, {}, 0});
  CHECK(fixed.fixed == serialize_http_request(parse_http_url("http://127.0.0.1:8080/health"), "GET", {}, "", true));
  CHECK(renderer.render(fixed, {}, buffer).data() == fixed.fixed.data());

  // A request's own header replaces a common one, whatever its case.
  auto own = make_load_request(request("/x", "GET", "", {{"authorization", "Bearer mine"}}), {}, origin,
                               {{"Authorization", "Bearer common"}}, template_scope{&values, {}, 0});
  CHECK(own.fixed.find("Bearer common") == std::string::npos);
  CHECK(own.fixed.find("authorization: Bearer mine") != std::string::npos);
}

TEST_CASE("a request on another host is refused with the reason", "[probes]") {
  const auto origin = parse_http_url("http://127.0.0.1:8080/");
  try {
    make_load_request(request("http://127.0.0.1:9090/x"), {}, origin, {}, template_scope{});
    FAIL("accepted");
  } catch (const param_error& e) {
    CHECK(e.param() == "url");
    CHECK(std::string(e.what()) == "'http://127.0.0.1:9090/x' is on 127.0.0.1:9090, the load's url on 127.0.0.1:8080; all "
                                   "requests of a load share its connections, so they go to one host and port");
  }
}

TEST_CASE("captures take a JSON pointer's value or a header from a response", "[probes]") {
  http_reply reply;
  reply.body = R"({"token":"abc","user":{"id":7,"admin":true},"none":null})";
  reply.headers["x-session"] = "s-1";
  CHECK(capture_value({"t", load_capture::source::json, "/token", 0}, reply) == "abc");
  CHECK(capture_value({"t", load_capture::source::json, "/user/id", 0}, reply) == "7");
  CHECK(capture_value({"t", load_capture::source::json, "/user/admin", 0}, reply) == "true");
  CHECK_FALSE(capture_value({"t", load_capture::source::json, "/none", 0}, reply));
  CHECK_FALSE(capture_value({"t", load_capture::source::json, "/user", 0}, reply));
  CHECK_FALSE(capture_value({"t", load_capture::source::json, "/missing", 0}, reply));
  CHECK(capture_value({"s", load_capture::source::header, "x-session", 0}, reply) == "s-1");
  reply.body = "not json";
  CHECK_FALSE(capture_value({"t", load_capture::source::json, "/token", 0}, reply));
}
