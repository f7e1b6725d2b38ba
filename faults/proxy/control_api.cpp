#include "faults/proxy/control_api.hpp"

#include "faults/proxy/log.hpp"
#include "faults/proxy/proxy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

namespace faultline::proxy {
namespace {

using json = nlohmann::json;
using ordered = nlohmann::ordered_json;

std::string dump(const ordered& j) { return j.dump(-1, ' ', false, ordered::error_handler_t::replace); }

api_response json_response(unsigned status, const ordered& body) { return {status, "application/json", dump(body), {}}; }

api_response no_content() { return {204, "", "", {}}; }

unsigned status_of(proxy_error::kind k) {
  switch (k) {
    case proxy_error::kind::invalid: return 400;
    case proxy_error::kind::not_found:
    case proxy_error::kind::toxic_not_found: return 404;
    case proxy_error::kind::already_exists:
    case proxy_error::kind::toxic_exists: return 409;
    case proxy_error::kind::listen_failed: return 500;
  }
  return 500;
}

api_error from(const proxy_error& e) { return {status_of(e.what_kind()), e.what()}; }

api_error bad_body(const std::string& why) { return {400, "bad request body: " + why}; }

std::string text_field(const json& o, const char* name, std::string fallback) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw bad_body(fmt::format("field '{}' must be a string, got {}", name, it->dump()));
  return it->get<std::string>();
}

bool flag_field(const json& o, const char* name, bool fallback) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw bad_body(fmt::format("field '{}' must be true or false, got {}", name, it->dump()));
  return it->get<bool>();
}

std::optional<double> number_field(const json& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw bad_body(fmt::format("field '{}' must be a number, got {}", name, it->dump()));
  return it->get<double>();
}

// Toxicity like Toxiproxy's float32: 1 renders as 1, 0.5 as 0.5.
ordered toxicity_json(double t) {
  if (t == 0.0 || t == 1.0) return static_cast<int>(t);
  return t;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Path segments after the leading '/'; nullopt when the path has an empty segment.
std::optional<std::vector<std::string>> segments(std::string target) {
  if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
  if (target.empty() || target[0] != '/') return std::nullopt;
  std::vector<std::string> out;
  std::size_t start = 1;
  for (;;) {
    auto slash = target.find('/', start);
    auto part = target.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty()) return std::nullopt;
    out.push_back(percent_decode(part));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

// Toxiproxy's Differs(): equal when the listen address resolves to the one bound and the
// upstream is the same string.
bool same_listen(const std::string& requested, const std::string& bound) {
  if (requested == bound) return true;
  try {
    auto a = proxy_address(requested, "listen");
    auto b = proxy_address(bound, "listen");
    auto norm = [](std::string h) { return h.empty() || h == "localhost" ? std::string("127.0.0.1") : h; };
    return a.port == b.port && a.port != 0 && norm(a.host) == norm(b.host);
  } catch (const proxy_error&) {
    return false;
  }
}

api_response not_found_page() { return {404, "text/plain; charset=utf-8", "404 page not found\n", {}}; }

api_response method_not_allowed(const char* allow) { return {405, "", "", {{"Allow", allow}}}; }

}  // namespace

// As Toxiproxy's apiError: the JSON object and a newline (Go's http.Error appends one).
api_response error_response(const api_error& e) {
  return {e.status, "application/json", dump(ordered{{"error", e.message}, {"status", e.status}}) + "\n", {}};
}

control_api::control_api(proxy_set& proxies, std::shared_ptr<const toxic_registry> toxics, options o)
    : proxies_(proxies), toxics_(std::move(toxics)), options_(std::move(o)) {}

ordered control_api::toxic_json(const installed_toxic& t) {
  return {{"attributes", t.config->attributes()}, {"name", t.name}, {"type", std::string(t.type())}, {"stream", to_string(t.stream)},
          {"toxicity", toxicity_json(t.toxicity)}};
}

ordered control_api::proxy_json(const proxy_info& p) {
  ordered out{{"name", p.name}, {"listen", p.listen}, {"upstream", p.upstream}, {"enabled", p.enabled}};
  if (p.protocol != "tcp") out["protocol"] = p.protocol;
  write_tls_settings(p.tls, out);
  out["toxics"] = ordered::array();
  for (const auto& t : p.toxics) out["toxics"].push_back(toxic_json(t));
  return out;
}

// An update moves or enables a proxy; its TLS settings stay as created. A body that sends them
// back unchanged (a client that posts the whole proxy object) is fine; one that changes them is
// refused rather than ignored.
void control_api::refuse_tls_change(const json& body, const proxy_info& current) {
  ordered now = ordered::object();
  write_tls_settings(current.tls, now);
  for (const char* key : {"tls", "upstream_tls"}) {
    const auto sent = body.find(key);
    if (sent == body.end()) continue;
    const auto kept = now.find(key);
    const bool same = kept == now.end() ? sent->is_null() || *sent == json(false) : json::parse(kept->dump()) == *sent;
    if (!same)
      throw api_error{400, fmt::format("the {} settings of proxy '{}' cannot change with an update; delete the proxy and create it again",
                                       key, current.name)};
  }
}

json control_api::parse_body(const std::string& body) const {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) throw bad_body("EOF");  // Go's decoder says so
  try {
    return json::parse(body);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number such as 1e400
    std::string what = e.what();
    if (auto close = what.find("] "); close != std::string::npos) what = what.substr(close + 2);
    throw bad_body(what);
  }
}

installed_toxic control_api::parse_toxic(const json& body) const {
  if (!body.is_object()) throw bad_body("a toxic must be a JSON object");
  installed_toxic spec;
  auto stream = parse_direction(text_field(body, "stream", "downstream"));
  if (!stream) throw api_error{400, "stream was invalid, can be either upstream or downstream"};
  spec.stream = *stream;
  auto type = text_field(body, "type", "");
  spec.name = text_field(body, "name", "");
  if (spec.name.empty()) spec.name = fmt::format("{}_{}", type, to_string(spec.stream));
  const auto* entry = toxics_->find(type);
  if (!entry) throw api_error{400, "invalid toxic type"};
  spec.toxicity = number_field(body, "toxicity").value_or(1.0);
  if (!(spec.toxicity >= 0.0 && spec.toxicity <= 1.0))
    throw bad_body(fmt::format("toxicity must be between 0 and 1, got {}", spec.toxicity));
  auto attributes = body.contains("attributes") ? body["attributes"] : json(nullptr);
  if (!attributes.is_null() && !attributes.is_object()) throw bad_body("attributes must be a JSON object");
  try {
    spec.config = entry->parse(attributes);
  } catch (const attribute_error& e) {
    throw bad_body(e.what());
  }
  return spec;
}

api_response control_api::handle(const api_request& request) {
  try {
    // Toxiproxy refuses browsers, so a web page cannot drive the API from a victim's browser.
    if (request.user_agent.rfind("Mozilla/", 0) == 0) return {403, "text/plain; charset=utf-8", "User agent not allowed\n", {}};
    if (!options_.token.empty() && request.authorization != "Bearer " + options_.token) {
      auto r = error_response({401, "missing or wrong bearer token: send the header 'Authorization: Bearer <token>'"});
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    return route(request);
  } catch (const api_error& e) {
    return error_response(e);
  } catch (const proxy_error& e) {
    return error_response(from(e));
  } catch (const std::exception& e) {
    proxy_log()->error("control API: {} {}: {}", request.method, request.target, e.what());
    return error_response({500, e.what()});
  }
}

api_response control_api::route(const api_request& request) {
  auto path = segments(request.target);
  if (!path) return not_found_page();
  const auto& m = request.method;
  const auto& s = *path;
  const bool post = m == "POST";
  const bool update = m == "POST" || m == "PATCH";

  if (s.size() == 1 && s[0] == "version") {
    if (m != "GET") return method_not_allowed("GET");
    return {200, "application/json;charset=utf-8", fmt::format("{{\"version\": \"{}\"}}\n", options_.version), {}};
  }
  if (s.size() == 1 && s[0] == "metrics") {
    if (m != "GET") return method_not_allowed("GET");
    return {200, std::string(prometheus::content_type), render_metrics(proxies_), {}};
  }
  if (s.size() == 1 && s[0] == "reset") {
    if (!post) return method_not_allowed("POST");
    proxies_.reset();
    return no_content();
  }
  if (s.size() == 1 && s[0] == "populate") {
    if (!post) return method_not_allowed("POST");
    try {
      auto created = populate(parse_body(request.body));
      ordered out{{"proxies", created.empty() ? ordered(nullptr) : ordered::array()}};
      for (const auto& p : created) out["proxies"].push_back(proxy_json(p));
      return json_response(201, out);
    } catch (const api_error& e) {  // Toxiproxy: the error fields next to "proxies": null
      return json_response(e.status, ordered{{"error", e.message}, {"status", e.status}, {"proxies", nullptr}});
    }
  }
  if (s.empty() || s[0] != "proxies" || s.size() > 4 || (s.size() >= 3 && s[2] != "toxics")) return not_found_page();

  if (s.size() == 1) {
    if (m == "GET") {
      ordered out = ordered::object();
      for (const auto& p : proxies_.list()) out[p.name] = proxy_json(p);
      return json_response(200, out);
    }
    if (!post) return method_not_allowed("GET, POST");
    auto body = parse_body(request.body);
    if (!body.is_object()) throw bad_body("a proxy must be a JSON object");
    proxy_config config;
    config.name = text_field(body, "name", "");
    config.listen = text_field(body, "listen", "");
    if (config.listen.empty()) config.listen = "127.0.0.1:0";
    config.upstream = text_field(body, "upstream", "");
    config.enabled = flag_field(body, "enabled", true);
    config.protocol = text_field(body, "protocol", "tcp");
    config.tls = parse_tls_settings(body);
    if (config.name.empty()) throw api_error{400, "missing required field: name"};
    if (config.upstream.empty()) throw api_error{400, "missing required field: upstream"};
    std::vector<installed_toxic> toxics;
    if (auto it = body.find("toxics"); it != body.end() && !it->is_null()) {
      if (!it->is_array()) throw bad_body("field 'toxics' must be an array of toxics");
      for (const auto& t : *it) toxics.push_back(parse_toxic(t));
    }
    return json_response(201, proxy_json(proxies_.add(config, toxics)));
  }

  const auto& name = s[1];
  if (s.size() == 2) {
    if (m == "GET") {
      auto p = proxies_.find(name);
      if (!p) throw api_error{404, "proxy not found"};
      return json_response(200, proxy_json(*p));
    }
    if (m == "DELETE") {
      proxies_.remove(name);
      return no_content();
    }
    if (!update) return method_not_allowed("GET, POST, PATCH, DELETE");
    auto current = proxies_.find(name);
    if (!current) throw api_error{404, "proxy not found"};
    auto body = parse_body(request.body);
    if (!body.is_object()) throw bad_body("a proxy must be a JSON object");
    refuse_tls_change(body, *current);
    proxy_config config{name, text_field(body, "listen", current->listen), text_field(body, "upstream", current->upstream),
                        flag_field(body, "enabled", current->enabled), text_field(body, "protocol", current->protocol)};
    return json_response(200, proxy_json(proxies_.update(config)));
  }

  if (s.size() == 3) {
    if (m == "GET") {
      ordered out = ordered::array();
      for (const auto& t : proxies_.toxics(name)) out.push_back(toxic_json(t));
      return json_response(200, out);
    }
    if (!post) return method_not_allowed("GET, POST");
    auto existing = proxies_.toxics(name);  // 404 first, as Toxiproxy
    auto body = parse_body(request.body);
    if (body.is_object()) {  // Toxiproxy checks the name before the attributes
      auto stream = parse_direction(text_field(body, "stream", "downstream"));
      auto wanted = text_field(body, "name", "");
      if (wanted.empty() && stream) wanted = fmt::format("{}_{}", text_field(body, "type", ""), to_string(*stream));
      if (stream && toxics_->find(text_field(body, "type", "")) &&
          std::any_of(existing.begin(), existing.end(), [&](const installed_toxic& t) { return t.name == wanted; }))
        throw api_error{409, "toxic already exists"};
    }
    auto spec = parse_toxic(body);
    try {
      return json_response(200, toxic_json(proxies_.add_toxic(name, std::move(spec))));
    } catch (const proxy_error& e) {
      if (e.what_kind() == proxy_error::kind::invalid) throw bad_body(e.what());
      throw;
    }
  }

  const auto& toxic_name = s[3];
  auto find_toxic = [&]() -> installed_toxic {
    for (auto& t : proxies_.toxics(name))
      if (t.name == toxic_name) return t;
    throw api_error{404, "toxic not found"};
  };
  if (m == "GET") return json_response(200, toxic_json(find_toxic()));
  if (m == "DELETE") {
    proxies_.remove_toxic(name, toxic_name);
    return no_content();
  }
  if (!update) return method_not_allowed("GET, POST, PATCH, DELETE");
  auto current = find_toxic();
  auto body = parse_body(request.body);
  if (!body.is_object()) throw bad_body("a toxic must be a JSON object");
  auto toxicity = number_field(body, "toxicity");
  if (toxicity && !(*toxicity >= 0.0 && *toxicity <= 1.0))
    throw bad_body(fmt::format("toxicity must be between 0 and 1, got {}", *toxicity));
  std::shared_ptr<const toxic_config> config;
  if (auto it = body.find("attributes"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) throw bad_body("attributes must be a JSON object");
    try {
      config = current.config->descriptor().merge(*current.config, *it);
    } catch (const attribute_error& e) {
      throw bad_body(e.what());
    }
  }
  return json_response(200, toxic_json(proxies_.update_toxic(name, toxic_name, toxicity, config)));
}

std::vector<proxy_info> control_api::populate(const json& list) {
  if (!list.is_array()) throw bad_body("expected a JSON array of proxies");
  struct item {
    proxy_config config;
    std::vector<installed_toxic> toxics;
  };
  std::vector<item> items;
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& o = list[i];
    if (!o.is_object()) throw bad_body(fmt::format("proxy {} is not a JSON object", i + 1));
    item it;
    it.config.name = text_field(o, "name", "");
    it.config.listen = text_field(o, "listen", "");
    if (it.config.listen.empty()) it.config.listen = "127.0.0.1:0";
    it.config.upstream = text_field(o, "upstream", "");
    it.config.enabled = flag_field(o, "enabled", true);
    it.config.protocol = text_field(o, "protocol", "tcp");
    try {
      it.config.tls = parse_tls_settings(o);
    } catch (const proxy_error& e) {
      throw bad_body(fmt::format("{} at proxy {}", e.what(), i + 1));
    }
    if (it.config.name.empty()) throw api_error{400, fmt::format("missing required field: name at proxy {}", i + 1)};
    if (it.config.upstream.empty()) throw api_error{400, fmt::format("missing required field: upstream at proxy {}", i + 1)};
    if (!names.insert(it.config.name).second)
      throw api_error{400, fmt::format("duplicate proxy name \"{}\" at proxy {}", it.config.name, i + 1)};
    if (auto t = o.find("toxics"); t != o.end() && !t->is_null()) {
      if (!t->is_array()) throw bad_body(fmt::format("field 'toxics' of proxy {} must be an array", i + 1));
      for (const auto& x : *t) {
        try {
          it.toxics.push_back(parse_toxic(x));
        } catch (const api_error& e) {
          throw api_error{e.status, fmt::format("{} at proxy {}", e.message, i + 1)};
        }
      }
    }
    items.push_back(std::move(it));
  }

  struct undo {
    std::string name;
    std::optional<proxy_info> previous;
  };
  std::vector<undo> applied;
  auto roll_back = [&] {
    for (auto u = applied.rbegin(); u != applied.rend(); ++u) {
      try {
        proxies_.remove(u->name);
      } catch (const proxy_error&) {
      }
      if (!u->previous) continue;
      const auto& p = *u->previous;
      std::vector<installed_toxic> toxics;
      for (const auto& t : p.toxics) toxics.push_back({t.name, t.stream, t.toxicity, t.config});
      try {
        proxy_config restored{p.name, p.listen, p.upstream, p.enabled, p.protocol};
        restored.tls = p.tls;
        proxies_.add(restored, toxics);
      } catch (const proxy_error& e) {
        proxy_log()->error("populate: could not restore proxy {}: {}", p.name, e.what());
      }
    }
  };
  std::vector<proxy_info> result;
  for (const auto& it : items) {
    auto existing = proxies_.find(it.config.name);
    if (existing && existing->upstream == it.config.upstream && same_listen(it.config.listen, existing->listen)) {
      result.push_back(*existing);
      continue;
    }
    try {
      if (existing) proxies_.remove(it.config.name);
      applied.push_back({it.config.name, existing});
      result.push_back(proxies_.add(it.config, it.toxics));
    } catch (const proxy_error& e) {
      roll_back();
      throw from(e);
    }
  }
  return result;
}

}  // namespace faultline::proxy
