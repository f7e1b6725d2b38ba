#include "engine/loader.hpp"

#include "core/limits.hpp"
#include "core/units.hpp"
#include "engine/capacity.hpp"
#include "engine/load_stages.hpp"
#include "faults/fault.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "probes/load_generator.hpp"
#include "probes/probe.hpp"
#include "probes/resource_quantity.hpp"
#include "probes/websocket_load.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

namespace faultline::engine {
namespace {

const std::vector<std::string> top_keys{"version", "name", "description", "tags", "proxies", "load",
                                        "probes", "steady_state", "timeline", "abort_when", "expect",
                                        "settings"};
const std::vector<std::string> proxy_keys{"listen", "upstream", "protocol", "allow_non_loopback", "tls", "upstream_tls"};
const std::vector<std::string> step_keys{"name", "at", "for", "until", "fault", "action", "target",
                                         "destructive"};
const std::vector<std::string> protocols{"tcp", "postgres", "redis", "http"};

bool is_identifier(const std::string& s) {
  static const std::regex pattern("[A-Za-z_][A-Za-z0-9_-]*");
  return std::regex_match(s, pattern);
}

// Why a mix request or journey step may not be called `name`: its series, load.<name>, would be
// another series's name or read as one; nothing when the name is free.
std::optional<std::string> reserved_request_name(const std::string& name) {
  const auto series = "load." + name;
  if (statistic_from_string(name)) return fmt::format("load.{} reads as the statistic {} of the whole load", name, name);
  if (series == probes::websocket_messages_series)
    return fmt::format("{} is the series of the WebSocket load (load.websocket:)", series);
  if (probes::find_quantity(name))
    return fmt::format("{} reads as the resource quantity {} of a probe named load (as shop.{} does for a process or "
                       "cgroup probe named shop)", series, name, name);
  return std::nullopt;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::vector<std::string> schema_keys(const param_schema& schema) {
  std::vector<std::string> keys;
  for (const auto& spec : schema) {
    auto key = spec.name.substr(0, spec.name.find('.'));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  return keys;
}

// YAML as the JSON the proxy's own parsers read (tls settings): true/false become booleans,
// other scalars strings.
nlohmann::json as_json(const YAML::Node& node) {
  if (node.IsMap()) {
    auto out = nlohmann::json::object();
    for (auto it = node.begin(); it != node.end(); ++it) out[it->first.Scalar()] = as_json(it->second);
    return out;
  }
  if (node.IsSequence()) {
    auto out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(as_json(item));
    return out;
  }
  if (node.IsNull()) return nullptr;
  const auto& text = node.Scalar();
  if (text == "true") return true;
  if (text == "false") return false;
  return text;
}

// The names the load fills in per request (its values and a journey's captures): ${name} of these
// is left for the generator instead of being taken for an experiment variable.
std::set<std::string> load_runtime_names(const YAML::Node& root) {
  std::set<std::string> names;
  if (!root.IsMap()) return names;
  const auto load = yaml_reader::child(root, "load");
  if (!load.IsDefined() || !load.IsMap()) return names;
  const auto http = yaml_reader::child(load, "http");
  if (!http.IsDefined() || !http.IsMap()) return names;
  if (auto values = yaml_reader::child(http, "values"); values.IsDefined() && values.IsMap())
    for (auto it = values.begin(); it != values.end(); ++it) names.insert(it->first.Scalar());
  if (auto journey = yaml_reader::child(http, "journey"); journey.IsDefined() && journey.IsSequence())
    for (const auto& step : journey)
      if (step.IsMap())
        if (auto capture = yaml_reader::child(step, "capture"); capture.IsDefined() && capture.IsMap())
          for (auto it = capture.begin(); it != capture.end(); ++it) names.insert(it->first.Scalar());
  return names;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw config_error({{{file.string(), 0, 0, ""}, "cannot read the file (does it exist and is it readable?)"}});
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reads one experiment document; every check that needs only the document and the catalogue.
class experiment_parser {
public:
  experiment_parser(yaml_reader& in, const catalogue& known) : in_(in), known_(known) {}

  experiment parse(const YAML::Node& root) {
    experiment x;
    if (!in_.expect_map(root, "", top_keys, "an experiment")) return x;
    read_header(root, x);
    read_settings(root, x);
    read_proxies(yaml_reader::child(root, "proxies"), x);
    const auto load = yaml_reader::child(root, "load");
    const bool levels = load.IsDefined() && load.IsMap() && yaml_reader::child(load, "levels").IsDefined();
    const auto expect = yaml_reader::child(root, "expect");
    const bool capacity = expect.IsDefined() && expect.IsMap() && yaml_reader::child(expect, "capacity").IsDefined();
    read_load(load, x, levels || capacity);
    read_probes(yaml_reader::child(root, "probes"), x);
    read_steady_state(yaml_reader::child(root, "steady_state"), x);
    if (levels) read_levels(yaml_reader::child(load, "levels"), root, x);
    if (load.IsDefined() && load.IsMap()) read_capacity_search(yaml_reader::child(load, "capacity"), x);
    read_timeline(yaml_reader::child(root, "timeline"), root, x, levels, capacity);
    x.abort_when = read_rules(yaml_reader::child(root, "abort_when"), "abort_when", x);
    read_expect(expect, x);
    finish_load(x);
    check_overlaps(x);
    return x;
  }

private:
  void read_header(const YAML::Node& root, experiment& x) {
    auto version = yaml_reader::child(root, "version");
    if (!version.IsDefined()) {
      in_.error(root, "", "missing 'version: 1' at the top of the experiment");
    } else if (auto v = in_.integer(version, "version"); v && *v != 1) {
      in_.error(version, "version", fmt::format("unsupported format version {}; this faultline reads version 1", *v));
    }
    in_.require(root, "", "name", "the experiment");
    if (auto n = yaml_reader::child(root, "name"); n.IsDefined())
      if (auto s = in_.text(n, "name")) {
        if (s->empty()) in_.error(n, "name", "the name must not be empty");
        x.name = *s;
      }
    if (auto d = yaml_reader::child(root, "description"); d.IsDefined())
      if (auto s = in_.text(d, "description")) x.description = *s;
    if (auto t = yaml_reader::child(root, "tags"); t.IsDefined())
      if (auto l = in_.text_list(t, "tags")) x.tags = *l;
  }

  void read_settings(const YAML::Node& root, experiment& x) {
    auto node = yaml_reader::child(root, "settings");
    if (!node.IsDefined()) return;
    if (!in_.expect_map(node, "settings", {"window", "fast_failure", "repeat", "metrics"}, "settings")) return;
    if (auto w = yaml_reader::child(node, "window"); w.IsDefined())
      if (auto d = in_.duration(w, "settings.window")) {
        if (*d < std::chrono::milliseconds(100)) in_.error(w, "settings.window", "the window must be at least 100ms");
        else x.settings.window = *d;
      }
    if (auto f = yaml_reader::child(node, "fast_failure"); f.IsDefined())
      if (auto d = in_.duration(f, "settings.fast_failure")) x.settings.fast_failure = *d;
    if (auto r = yaml_reader::child(node, "repeat"); r.IsDefined())
      if (auto n = in_.integer(r, "settings.repeat", 1, 100)) x.settings.repeat = static_cast<int>(*n);
    if (auto m = yaml_reader::child(node, "metrics"); m.IsDefined()) read_metrics_setting(m, x);
  }

  // settings.metrics: "127.0.0.1:9464", or { listen: ..., allow_non_loopback: true }.
  void read_metrics_setting(const YAML::Node& node, experiment& x) {
    const std::string path = "settings.metrics";
    bool allow_public = false;
    if (node.IsMap()) {
      if (!in_.expect_map(node, path, {"listen", "allow_non_loopback"}, "settings.metrics")) return;
      in_.require(node, path, "listen", "settings.metrics");
      if (auto a = yaml_reader::child(node, "allow_non_loopback"); a.IsDefined())
        allow_public = in_.flag(a, path_key(path, "allow_non_loopback")).value_or(false);
    }
    // A fresh node, never assigned to: assigning one YAML::Node to another rewrites the shared one.
    const auto listen = node.IsMap() ? yaml_reader::child(node, "listen") : node;
    const auto listen_path = node.IsMap() ? path_key(path, "listen") : path;
    if (!listen.IsDefined()) return;
    auto e = read_address(listen, listen_path, {.port_zero = true});
    if (!e) return;
    if (!is_loopback_host(e->host) && !allow_public) {
      in_.error(listen, listen_path,
                fmt::format("the metrics endpoint would listen on {}, which is not loopback; use 127.0.0.1 or write "
                            "metrics: {{ listen: {}, allow_non_loopback: true }}", e->host, e->to_string()));
      return;
    }
    x.settings.metrics = *e;
    x.settings.metrics_allow_non_loopback = allow_public;
  }

  std::optional<address> read_address(const YAML::Node& node, const std::string& path, address_rules rules) {
    auto s = in_.text(node, path);
    if (!s) return std::nullopt;
    try {
      return parse_address(*s, rules);
    } catch (const std::invalid_argument& e) {
      in_.error(node, path, e.what());
      return std::nullopt;
    }
  }

  void read_proxies(const YAML::Node& node, experiment& x) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
      in_.error(node, "proxies", "proxies must be a mapping of names to { listen, upstream, protocol }");
      return;
    }
    std::set<std::string> listens;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const auto name = it->first.Scalar();
      const auto path = path_key("proxies", name);
      if (!is_identifier(name)) {
        in_.error(it->first, path, fmt::format("'{}' is not a valid proxy name (letters, digits, '_' and '-')", name));
        continue;
      }
      if (x.find_proxy(name)) {
        in_.error(it->first, path, fmt::format("proxy '{}' is declared twice", name));
        continue;
      }
      const YAML::Node body = it->second;  // a copy: it->second lives only as long as the iterator's proxy
      if (!in_.expect_map(body, path, proxy_keys, fmt::format("proxy '{}'", name))) continue;
      in_.require(body, path, "listen", fmt::format("proxy '{}'", name));
      in_.require(body, path, "upstream", fmt::format("proxy '{}'", name));
      proxy_spec p;
      p.name = name;
      p.where = in_.mark(it->first, path);
      bool allow_public = false;
      if (auto a = yaml_reader::child(body, "allow_non_loopback"); a.IsDefined())
        allow_public = in_.flag(a, path_key(path, "allow_non_loopback")).value_or(false);
      p.allow_non_loopback = allow_public;
      if (auto l = yaml_reader::child(body, "listen"); l.IsDefined()) {
        if (auto e = read_address(l, path_key(path, "listen"), {.port_zero = true})) {
          p.listen = *e;
          if (!is_loopback_host(e->host) && !allow_public)
            in_.error(l, path_key(path, "listen"),
                      fmt::format("proxy '{}' would listen on {}, which is not loopback; use 127.0.0.1 or set "
                                  "allow_non_loopback: true", name, e->host));
          if (e->port != 0 && !listens.insert(e->to_string()).second)
            in_.error(l, path_key(path, "listen"), fmt::format("another proxy already listens on {}", e->to_string()));
        }
      }
      if (auto u = yaml_reader::child(body, "upstream"); u.IsDefined())
        if (auto e = read_address(u, path_key(path, "upstream"), connect_address)) p.upstream = *e;
      if (auto pr = yaml_reader::child(body, "protocol"); pr.IsDefined())
        if (auto s = in_.text(pr, path_key(path, "protocol"))) {
          if (std::find(protocols.begin(), protocols.end(), *s) == protocols.end()) {
            std::string message = fmt::format("unknown protocol '{}' (known: {})", *s, join(protocols));
            if (auto g = closest_match(*s, protocols)) message += fmt::format("; did you mean '{}'?", *g);
            in_.error(pr, path_key(path, "protocol"), message);
          } else {
            p.protocol = *s;
          }
        }
      if (auto t = yaml_reader::child(body, "tls"), u = yaml_reader::child(body, "upstream_tls"); t.IsDefined() || u.IsDefined()) {
        auto object = nlohmann::json::object();
        if (t.IsDefined()) object["tls"] = as_json(t);
        if (u.IsDefined()) object["upstream_tls"] = as_json(u);
        try {
          p.tls = proxy::parse_tls_settings(object);
        } catch (const proxy::proxy_error& e) {
          in_.error(t.IsDefined() ? t : u, path_key(path, t.IsDefined() ? "tls" : "upstream_tls"), e.what());
        }
      }
      x.proxies.push_back(std::move(p));
    }
  }

  void read_load(const YAML::Node& node, experiment& x, bool shape_elsewhere) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!in_.expect_map(node, "load", {"http", "websocket", "levels", "capacity"}, "load")) return;
    auto http = yaml_reader::child(node, "http");
    auto websocket = yaml_reader::child(node, "websocket");
    if (!http.IsDefined() && !websocket.IsDefined()) {
      in_.error(node, "load", "load needs a generator, e.g. load: { http: { url: ..., rate: 200/s } }");
      return;
    }
    if (websocket.IsDefined()) read_websocket_load(websocket, x);
    if (!http.IsDefined()) return;
    const auto& schema = probes::http_load_params();
    auto keys = schema_keys(schema);
    keys.insert(keys.end(), {"requests", "journey", "values"});
    if (!in_.expect_map(http, "load.http", keys, "the http load")) return;
    load_spec l;
    l.type = "http";
    l.parameters = in_.read_params(http, "load.http", schema, "the http load");
    l.where = in_.mark(http, "load.http");
    load_problems_before_ = in_.problems().size();
    load_parts_ = read_load_parts(http);
    read_load_shape(http, l, shape_elsewhere);
    load_node_ = http;
    x.load = std::move(l);
  }

  void read_websocket_load(const YAML::Node& node, experiment& x) {
    const auto& schema = probes::websocket_load_params();
    if (!in_.expect_map(node, "load.websocket", schema_keys(schema), "the websocket load")) return;
    websocket_load_spec w;
    const auto problems_before = in_.problems().size();
    w.parameters = in_.read_params(node, "load.websocket", schema, "the websocket load");
    w.where = in_.mark(node, "load.websocket");
    if (in_.problems().size() == problems_before) {
      try {
        (void)probes::websocket_load_config::from(w.parameters);
      } catch (const param_error& e) {
        report_param_error(node, "load.websocket", e);
      }
    }
    x.websocket_load = std::move(w);
  }

  // Builds the generator's configuration once the shape is known (from the levels, if any).
  void finish_load(experiment& x) {
    if (!x.load || in_.problems().size() != load_problems_before_) return;
    auto shape = x.load->shape;
    if (shape.empty()) {
      // A capacity search gives the shape; check the rest with a stand-in.
      probes::load_stage stand_in;
      stand_in.kind = load_parts_.journey ? probes::load_stage::model::closed : probes::load_stage::model::open;
      stand_in.rate_from = stand_in.rate_to = 1;
      stand_in.users = 1;
      shape.push_back(stand_in);
    }
    try {
      x.load->config = std::make_shared<const probes::http_load_config>(
          probes::http_load_config::from(x.load->parameters, shape, load_parts_));
    } catch (const param_error& e) {
      if (e.param() == "journey" && x.is_capacity_run())
        in_.error(yaml_reader::child(load_node_, "journey"), "load.http.journey",
                  "a capacity search raises the arrival rate; give the load a mix of requests: (a journey runs per user)");
      else
        report_param_error(load_node_, "load.http", e);
    }
  }

  // `requests:` (a weighted mix) or `journey:` (a user's steps), and `values:`.
  probes::http_load_parts read_load_parts(const YAML::Node& http) {
    probes::http_load_parts parts;
    parts.base_dir = std::filesystem::path(in_.file()).parent_path();
    auto requests = yaml_reader::child(http, "requests");
    auto journey = yaml_reader::child(http, "journey");
    if (requests.IsDefined() && journey.IsDefined())
      in_.error(journey, "load.http.journey", "give either requests: (a mix, each picked by weight) or journey: (each user's "
                                              "steps in order), not both");
    parts.journey = journey.IsDefined() && !requests.IsDefined();
    const auto list = parts.journey ? journey : requests;
    const std::string key = parts.journey ? "journey" : "requests";
    if (list.IsDefined()) {
      for (const char* single : {"method", "body"})
        if (auto n = yaml_reader::child(http, single); n.IsDefined())
          in_.error(n, path_key("load.http", single), fmt::format("'{}' belongs to each of the {}; move it there", single, key));
      if (!list.IsSequence() || list.size() == 0) {
        in_.error(list, path_key("load.http", key),
                  fmt::format("{} must be a list of requests, e.g. - {{ name: browse, weight: 70, url: /orders/${{id}} }}", key));
      } else {
        for (std::size_t i = 0; i < list.size(); ++i) parts.requests.push_back(read_load_request(list[i], path_index(path_key("load.http", key), i), parts.journey));
      }
    }
    auto values = yaml_reader::child(http, "values");
    if (values.IsDefined()) {
      if (!values.IsMap()) {
        in_.error(values, "load.http.values", "values must map names to generators, e.g. values: { id: { range: [1, 1000] } }");
      } else {
        for (auto it = values.begin(); it != values.end(); ++it) {
          const auto name = it->first.Scalar();
          const auto path = path_key("load.http.values", name);
          if (!is_identifier(name) || name.find('-') != std::string::npos) {
            in_.error(it->first, path, fmt::format("'{}' cannot name a value (letters, digits and '_')", name));
            continue;
          }
          const auto& schema = probes::load_value_params();
          if (!in_.expect_map(it->second, path, schema_keys(schema), fmt::format("value '{}'", name))) continue;
          parts.values.emplace_back(name, in_.read_params(it->second, path, schema, fmt::format("value '{}'", name)));
        }
      }
    }
    return parts;
  }

  probes::load_request_input read_load_request(const YAML::Node& node, const std::string& path, bool journey) {
    probes::load_request_input r;
    const auto& schema = probes::load_request_params();
    auto keys = schema_keys(schema);
    if (journey) keys.push_back("capture");
    const auto what = journey ? "a journey step" : "a request";
    if (!in_.expect_map(node, path, keys, what)) return r;
    r.parameters = in_.read_params(node, path, schema, what);
    if (auto n = yaml_reader::child(node, "name"); n.IsDefined()) {
      const auto name = r.parameters.maybe<std::string>("name").value_or("");
      if (!is_identifier(name))
        in_.error(n, path_key(path, "name"), fmt::format("'{}' cannot name a request: its series is load.{} (letters, digits, "
                                                         "'_' and '-', and not a statistic such as p95)", name, name));
      else if (auto why = reserved_request_name(name))
        in_.error(n, path_key(path, "name"), fmt::format("'{}' cannot name a request: {}; rename it, e.g. '{}-page'", name,
                                                         *why, name));
    }
    if (!journey) {
      for (const char* only : {"repeat", "think_time"})
        if (auto n = yaml_reader::child(node, only); n.IsDefined())
          in_.error(n, path_key(path, only), fmt::format("'{}' is for the steps of a journey", only));
    } else if (auto n = yaml_reader::child(node, "weight"); n.IsDefined()) {
      in_.error(n, path_key(path, "weight"), "a journey runs its steps in order; 'weight' is for a mix of requests:");
    }
    auto capture = yaml_reader::child(node, "capture");
    if (capture.IsDefined()) {
      if (!capture.IsMap()) {
        in_.error(capture, path_key(path, "capture"), "capture maps names to { json: /pointer } or { header: Name }");
        return r;
      }
      for (auto it = capture.begin(); it != capture.end(); ++it) {
        const auto name = it->first.Scalar();
        const auto cpath = path_key(path_key(path, "capture"), name);
        if (!is_identifier(name) || name.find('-') != std::string::npos) {
          in_.error(it->first, cpath, fmt::format("'{}' cannot name a captured value (letters, digits and '_')", name));
          continue;
        }
        if (!in_.expect_map(it->second, cpath, {"json", "header"}, fmt::format("capture '{}'", name))) continue;
        auto json = yaml_reader::child(it->second, "json");
        auto header = yaml_reader::child(it->second, "header");
        if (json.IsDefined() == header.IsDefined()) {
          in_.error(it->second, cpath, fmt::format("capture '{}' takes one of json: /pointer or header: Name", name));
          continue;
        }
        probes::load_capture c;
        c.name = name;
        c.from = json.IsDefined() ? probes::load_capture::source::json : probes::load_capture::source::header;
        auto where = in_.text(json.IsDefined() ? json : header, path_key(cpath, json.IsDefined() ? "json" : "header"));
        if (!where) continue;
        c.where = *where;
        if (json.IsDefined()) {
          try {
            (void)nlohmann::json::json_pointer(c.where);
          } catch (const nlohmann::json::exception&) {
            in_.error(json, path_key(cpath, "json"),
                      fmt::format("'{}' is not a JSON pointer (write it like /token or /items/0/id)", c.where));
            continue;
          }
        }
        r.captures.push_back(std::move(c));
      }
    }
    return r;
  }

  // A component rejected a combination of values: point at the parameter it named, which may be a
  // path into nested maps and lists ("expect.status", "requests[1].url").
  void report_param_error(const YAML::Node& map, const std::string& path, const param_error& e) {
    YAML::Node node = map;
    std::string rest = e.param();
    while (!rest.empty()) {
      const auto cut = rest.find_first_of(".[");
      const auto key = rest.substr(0, cut);
      rest = cut == std::string::npos ? "" : rest.substr(cut);
      YAML::Node next = key.empty() ? node : yaml_reader::child(node, key);
      while (next.IsDefined() && rest.starts_with("[")) {
        const auto close = rest.find(']');
        const auto index = std::stoul(rest.substr(1, close - 1));
        next = next.IsSequence() && index < next.size() ? next[index] : YAML::Node(YAML::NodeType::Undefined);
        rest = rest.substr(close + 1);
      }
      if (!next.IsDefined()) break;
      node = next;
      if (rest.starts_with(".")) rest = rest.substr(1);
    }
    in_.error(node, path_key(path, e.param()), e.what());
  }

  // Exactly one of rate (open), users (closed) or stages describes the shape, unless the levels or
  // a capacity search give it.
  void read_load_shape(const YAML::Node& http, load_spec& l, bool shape_elsewhere) {
    const auto& p = l.parameters;
    const auto written = [&](const char* key) { return yaml_reader::child(http, key).IsDefined(); };
    int given = int(written("rate")) + int(written("users")) + int(written("stages"));
    if (shape_elsewhere && given == 0) return;
    if (given != 1) {
      in_.error(http, "load.http", given == 0 ? "the http load needs one of 'rate' (e.g. 200/s), 'users' (e.g. 50) or 'stages'"
                                              : "give only one of 'rate', 'users' or 'stages'");
      return;
    }
    if (!p.has("rate") && !p.has("users") && !p.has("stages")) return;  // already reported
    const auto think = p.maybe<nanoseconds>("think_time").value_or(nanoseconds(0));
    if (p.has("rate")) {
      probes::load_stage s;
      s.rate_from = s.rate_to = p.number("rate");
      l.shape = {s};
    } else if (p.has("users")) {
      probes::load_stage s;
      s.kind = probes::load_stage::model::closed;
      s.users = p.integer("users");
      s.think_time = think;
      l.shape = {s};
    } else {
      auto node = yaml_reader::child(http, "stages");
      try {
        l.shape = parse_load_stages(p.list("stages"), think);
        if (l.shape.empty()) in_.error(node, "load.http.stages", "the stages list is empty");
      } catch (const unit_error& e) {
        in_.error(node, "load.http.stages", e.what());
      }
    }
  }

  void read_probes(const YAML::Node& node, experiment& x) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
      in_.error(node, "probes", "probes must be a mapping of names to a probe, e.g. health: { http: { url: ... } }");
      return;
    }
    auto type_names = known_.probes.names();
    for (auto it = node.begin(); it != node.end(); ++it) {
      const auto name = it->first.Scalar();
      const auto path = path_key("probes", name);
      if (!is_identifier(name) || name == "load") {
        in_.error(it->first, path, fmt::format("'{}' cannot name a probe (use letters, digits, '_' and '-'; "
                                               "'load' is reserved)", name));
        continue;
      }
      if (x.find_probe(name)) {
        in_.error(it->first, path, fmt::format("probe '{}' is declared twice", name));
        continue;
      }
      const YAML::Node body = it->second;  // a copy: it->second lives only as long as the iterator's proxy
      if (!body.IsMap() || body.size() != 1) {
        in_.error(body, path, fmt::format("probe '{}' must name exactly one probe type ({}), e.g. {}: {{ http: {{ url: ... }} }}",
                                          name, join(type_names), name));
        continue;
      }
      auto type_key = body.begin()->first.Scalar();
      const auto* type = known_.probes.find(type_key);
      if (!type) {
        std::string message = fmt::format("unknown probe type '{}' (known: {})", type_key, join(type_names));
        if (auto g = closest_match(type_key, type_names)) message += fmt::format("; did you mean '{}'?", *g);
        in_.error(body.begin()->first, path_key(path, type_key), message);
        continue;
      }
      auto schema = probes::common_probe_params();
      schema.insert(schema.end(), type->params.begin(), type->params.end());
      const auto settings = body.begin()->second;
      const auto spath = path_key(path, type_key);
      if (!in_.expect_map(settings, spath, schema_keys(schema), fmt::format("the {} probe '{}'", type_key, name)))
        continue;
      probe_spec p;
      p.name = name;
      p.type = type_key;
      p.latency_is_reading_cost = type->latency_is_reading_cost;
      const auto problems_before = in_.problems().size();
      p.parameters = in_.read_params(settings, spath, schema, fmt::format("the {} probe '{}'", type_key, name));
      p.where = in_.mark(it->first, path);
      if (type->validate && in_.problems().size() == problems_before) {
        try {
          type->validate(p.parameters);
        } catch (const param_error& e) {
          report_param_error(settings, spath, e);
        }
      }
      x.probes.push_back(std::move(p));
    }
  }

  std::vector<rule> read_rules(const YAML::Node& node, const std::string& path, const experiment& x) {
    std::vector<rule> out;
    if (!node.IsDefined() || node.IsNull()) return out;
    if (!node.IsSequence()) {
      in_.error(node, path, "rules must be a list, e.g. [ \"load.p95 < 200ms\", \"health.ok\" ]");
      return out;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const auto rpath = path_index(path, i);
      auto text = in_.text(node[i], rpath);
      if (!text) continue;
      try {
        auto r = parse_rule(*text);
        check_series(node[i], rpath, r, x);
        out.push_back(std::move(r));
      } catch (const rule_error& e) {
        auto where = in_.mark(node[i], rpath);
        // Quoted scalars start one column before their text.
        where.column += static_cast<int>(e.column()) + (node[i].Tag() == "!" ? 1 : 0);
        in_.error(where, fmt::format("in rule \"{}\": {}", *text, e.what()));
      }
    }
    return out;
  }

  void check_series(const YAML::Node& node, const std::string& path, const rule& r, const experiment& x) {
    if (r.series == probes::websocket_messages_series || r.series == probes::websocket_sessions_series) {
      if (!x.websocket_load)
        in_.error(node, path, fmt::format("rule \"{}\" uses '{}' but the experiment has no load.websocket section", r.text,
                                          r.series));
      else if (r.stat == statistic::value)
        in_.error(node, path, "load has no value; 'value' is for probes that extract one (metric, JSON pointer, command)");
      return;
    }
    if (r.series == "load" || r.series.starts_with("load.")) {
      if (!x.load) {
        in_.error(node, path, fmt::format("rule \"{}\" uses 'load' but the experiment has no load section", r.text));
      } else if (r.stat == statistic::value) {
        in_.error(node, path, "load has no value; 'value' is for probes that extract one (metric, JSON pointer, command)");
      } else if (r.series != "load") {
        const auto request = r.series.substr(5);
        std::vector<std::string> names;
        for (const auto& q : load_parts_.requests) names.push_back(q.parameters.maybe<std::string>("name").value_or(""));
        if (std::find(names.begin(), names.end(), request) == names.end()) {
          std::string message = fmt::format("rule \"{}\" refers to request '{}', which the load does not have", r.text, request);
          if (auto g = closest_match(request, names)) message += fmt::format(" (did you mean 'load.{}'?)", *g);
          else if (names.empty()) message += "; name requests under load.http.requests or journey";
          else message += fmt::format(" (requests: {})", join(names));
          in_.error(node, path, message);
        }
      }
      return;
    }
    if (x.find_probe(r.series)) return;
    if (auto q = probes::split_quantity_series(r.series)) {
      check_quantity(node, path, r, *q, x);
      return;
    }
    std::vector<std::string> names{"load"};
    if (x.websocket_load)
      names.insert(names.end(), {std::string(probes::websocket_messages_series), std::string(probes::websocket_sessions_series)});
    for (const auto& p : x.probes) names.push_back(p.name);
    std::string message = fmt::format("rule \"{}\" refers to '{}', which is neither 'load' nor a probe", r.text, r.series);
    if (auto g = closest_match(r.series, names)) message += fmt::format(" (did you mean '{}'?)", *g);
    else message += fmt::format(" (known: {})", join(names));
    in_.error(node, path, message);
  }

  // "shop.rss": the probe exists and its type measures the quantity.
  void check_quantity(const YAML::Node& node, const std::string& path, const rule& r, const probes::quantity_series& q,
                      const experiment& x) {
    const auto* p = x.find_probe(q.probe);
    const auto* type = p ? known_.probes.find(p->type) : nullptr;
    if (type && std::any_of(type->quantities.begin(), type->quantities.end(),
                            [&](const probes::quantity& m) { return m.name == q.what->name; }))
      return;
    if (!p) {
      std::vector<std::string> names;
      for (const auto& pr : x.probes) names.push_back(pr.name);
      std::string message = fmt::format("rule \"{}\" refers to '{}', which is not a probe", r.text, q.probe);
      if (auto g = closest_match(std::string(q.probe), names)) message += fmt::format(" (did you mean '{}'?)", *g);
      in_.error(node, path, message);
      return;
    }
    std::vector<std::string> measured;
    if (type)
      for (const auto& m : type->quantities) measured.push_back(std::string(m.name));
    in_.error(node, path, measured.empty()
                              ? fmt::format("{} probe '{}' measures no '{}'; process and cgroup probes do", p->type, p->name,
                                            q.what->name)
                              : fmt::format("{} probe '{}' measures no '{}' (it measures: {})", p->type, p->name,
                                            q.what->name, join(measured)));
  }

  void read_steady_state(const YAML::Node& node, experiment& x) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!in_.expect_map(node, "steady_state", {"for", "timeout", "require"}, "steady_state")) return;
    if (auto f = yaml_reader::child(node, "for"); f.IsDefined())
      if (auto d = in_.duration(f, "steady_state.for")) {
        if (d->count() == 0) in_.error(f, "steady_state.for", "the steady-state window must be longer than 0s");
        else x.steady_state.hold_for = *d;
      }
    if (auto t = yaml_reader::child(node, "timeout"); t.IsDefined())
      if (auto d = in_.duration(t, "steady_state.timeout")) {
        if (*d < x.steady_state.hold_for)
          in_.error(t, "steady_state.timeout", fmt::format("the timeout ({}) must be at least 'for' ({})",
                                                           format_duration(*d), format_duration(x.steady_state.hold_for)));
        else x.steady_state.timeout = *d;
      }
    x.steady_state.require = read_rules(yaml_reader::child(node, "require"), "steady_state.require", x);
  }

  // `load.levels`: the load held at each level in turn, each judged by its own rules.
  void read_levels(const YAML::Node& node, const YAML::Node& root, experiment& x) {
    const std::string path = "load.levels";
    if (!node.IsSequence() || node.size() == 0) {
      in_.error(node, path, "levels must be a list, e.g. - { name: 100-users, users: 100, for: 60s, require: [\"load.p95 < 50ms\"] }");
      return;
    }
    if (x.load && !x.load->shape.empty())
      in_.error(x.load->where, "the levels give the load its shape; remove rate, users and stages from load.http");
    if (auto t = yaml_reader::child(root, "timeline"); t.IsDefined())
      in_.error(t, "timeline", "an experiment with load.levels runs its levels in place of a fault timeline; remove 'timeline' "
                               "(to measure under a fault, search the capacity with expect.capacity)");
    if (auto s = yaml_reader::child(root, "steady_state"); s.IsDefined())
      in_.error(s, "steady_state", "an experiment with load.levels judges each level by its own 'require'; remove 'steady_state'");
    const auto think = x.load ? x.load->parameters.maybe<nanoseconds>("think_time").value_or(nanoseconds(0)) : nanoseconds(0);
    for (std::size_t i = 0; i < node.size(); ++i) {
      const auto lpath = path_index(path, i);
      const auto& n = node[i];
      const auto what = fmt::format("level {}", i + 1);
      if (!in_.expect_map(n, lpath, {"name", "users", "rate", "for", "require"}, what)) continue;
      level_spec level;
      level.where = in_.mark(n, lpath);
      auto users = yaml_reader::child(n, "users");
      auto rate = yaml_reader::child(n, "rate");
      if (users.IsDefined() == rate.IsDefined()) {
        in_.error(n, lpath, fmt::format("{} needs one of users (e.g. 500) or rate (e.g. 800/s)", what));
        continue;
      }
      if (users.IsDefined()) {
        auto u = in_.integer(users, path_key(lpath, "users"), 1);
        if (!u) continue;
        level.stage.kind = probes::load_stage::model::closed;
        level.stage.users = *u;
        level.stage.think_time = think;
        level.name = fmt::format("{}-users", *u);
      } else {
        auto r = in_.convert<double>(rate, path_key(lpath, "rate"), [](const std::string& t) { return parse_rate(t); });
        if (!r) continue;
        if (*r <= 0) in_.error(rate, path_key(lpath, "rate"), "the rate must be more than 0/s");
        level.stage.rate_from = level.stage.rate_to = *r;
        level.name = format_rate(*r);
      }
      if (auto f = yaml_reader::child(n, "for"); f.IsDefined()) {
        if (auto d = in_.duration(f, path_key(lpath, "for"))) {
          if (d->count() == 0) in_.error(f, path_key(lpath, "for"), "a level must last longer than 0s");
          level.stage.duration = *d;
        }
      } else {
        in_.error(n, lpath, fmt::format("{} is missing the required key 'for' (how long it holds, e.g. for: 60s)", what));
      }
      if (auto nm = yaml_reader::child(n, "name"); nm.IsDefined()) {
        if (auto v = in_.text(nm, path_key(lpath, "name"))) {
          if (!is_identifier(*v)) in_.error(nm, path_key(lpath, "name"), fmt::format("'{}' is not a valid level name (letters, digits, '_' and '-')", *v));
          level.name = *v;
        }
      }
      for (const auto& other : x.levels)
        if (other.name == level.name)
          in_.error(n, lpath, fmt::format("two levels are named '{}'; name them apart with name:", level.name));
      level.require = read_rules(yaml_reader::child(n, "require"), path_key(lpath, "require"), x);
      x.levels.push_back(std::move(level));
    }
    if (x.load) {
      x.load->shape.clear();
      for (const auto& level : x.levels) x.load->shape.push_back(level.stage);
    }
  }

  // `load.capacity`: how a capacity search goes (all optional).
  void read_capacity_search(const YAML::Node& node, experiment& x) {
    if (!node.IsDefined() || node.IsNull()) return;
    const std::string path = "load.capacity";
    const auto& schema = capacity_search_params();
    if (!in_.expect_map(node, path, schema_keys(schema), "the capacity search")) return;
    const auto before = in_.problems().size();
    auto p = in_.read_params(node, path, schema, "the capacity search");
    if (in_.problems().size() != before) return;
    try {
      x.capacity = capacity_search_from(p);
    } catch (const param_error& e) {
      report_param_error(node, path, e);
    }
    x.capacity.require = read_rules(yaml_reader::child(node, "require"), path_key(path, "require"), x);
  }

  void read_timeline(const YAML::Node& node, const YAML::Node& root, experiment& x, bool levels, bool capacity) {
    if (!node.IsDefined()) {
      if (!levels && !capacity) in_.error(root, "", "the experiment is missing the required key 'timeline'");
      return;
    }
    if (levels) return;  // reported by read_levels
    if (!in_.expect_map(node, "timeline", {"baseline", "steps", "recovery"}, "timeline")) return;
    if (auto b = yaml_reader::child(node, "baseline"); b.IsDefined())
      if (auto d = in_.duration(b, "timeline.baseline")) x.timeline.baseline = *d;
    if (auto r = yaml_reader::child(node, "recovery"); r.IsDefined()) {
      if (in_.expect_map(r, "timeline.recovery", {"timeout", "stable_for"}, "recovery")) {
        if (auto t = yaml_reader::child(r, "timeout"); t.IsDefined())
          if (auto d = in_.duration(t, "timeline.recovery.timeout")) {
            if (d->count() == 0) in_.error(t, "timeline.recovery.timeout", "the recovery timeout must be longer than 0s");
            else x.timeline.recovery.timeout = *d;
          }
        if (auto s = yaml_reader::child(r, "stable_for"); s.IsDefined())
          if (auto d = in_.duration(s, "timeline.recovery.stable_for")) x.timeline.recovery.stable_for = *d;
      }
    }
    auto steps = yaml_reader::child(node, "steps");
    if (!steps.IsDefined()) {
      in_.error(node, "timeline", "the timeline is missing the required key 'steps' (a list of faults and actions)");
      return;
    }
    if (!steps.IsSequence()) {
      in_.error(steps, "timeline.steps", "steps must be a list of faults and actions");
      return;
    }
    if (steps.size() == 0) in_.error(steps, "timeline.steps", "the timeline has no steps; add at least one fault");
    for (std::size_t i = 0; i < steps.size(); ++i) read_step(steps[i], path_index("timeline.steps", i), i, x);
    resolve_until(steps, x);
  }

  void read_step(const YAML::Node& node, const std::string& path, std::size_t index, experiment& x) {
    if (!node.IsMap()) {
      in_.error(node, path, "a step must be a mapping, e.g. { at: 0s, for: 30s, fault: latency, target: postgres }");
      return;
    }
    auto fault_node = yaml_reader::child(node, "fault");
    auto action_node = yaml_reader::child(node, "action");
    if (fault_node.IsDefined() == action_node.IsDefined()) {
      in_.error(node, path, fault_node.IsDefined() ? "a step is either a fault or an action, not both"
                                                   : "a step needs 'fault: <type>' or 'action: <type>'");
      in_.expect_map(node, path, step_keys, "the step");
      return;
    }
    step s;
    s.index = index;
    s.is_action = action_node.IsDefined();
    const auto& type_node = s.is_action ? action_node : fault_node;
    const auto type_path = path_key(path, s.is_action ? "action" : "fault");
    s.type = in_.text(type_node, type_path).value_or("");
    s.where = in_.mark(node, path);
    const faults::fault_type* type = known_.faults.find(s.type);
    if (!type) {
      std::vector<std::string> names;
      for (const auto& [name, t] : known_.faults.types())
        if (t.action == s.is_action) names.push_back(name);
      std::string message = fmt::format("unknown {} type '{}'", s.is_action ? "action" : "fault", s.type);
      if (auto g = closest_match(s.type, names)) message += fmt::format(" (did you mean '{}'?)", *g);
      message += fmt::format("; known {}s: {}", s.is_action ? "action" : "fault", join(names));
      in_.error(type_node, type_path, message);
      in_.expect_map(node, path, step_keys, "the step");
      return;
    }
    if (type->action != s.is_action) {
      in_.error(type_node, type_path, fmt::format("'{}' is {}; write '{}: {}'", s.type,
                                                  type->action ? "an action" : "a fault",
                                                  type->action ? "action" : "fault", s.type));
    }
    s.fault_type = type;
    auto keys = step_keys;
    for (const auto& k : schema_keys(type->params)) keys.push_back(k);
    // No step number: the path (timeline.steps[0]) already names the step, counted from 0.
    const auto what = fmt::format("the {} step '{}'", s.is_action ? "action" : "fault", s.type);
    in_.expect_map(node, path, keys, what);

    if (auto n = yaml_reader::child(node, "name"); n.IsDefined()) {
      if (auto v = in_.text(n, path_key(path, "name"))) {
        if (!is_identifier(*v)) in_.error(n, path_key(path, "name"), fmt::format("'{}' is not a valid step name (letters, digits, '_' and '-')", *v));
        else if (x.find_step(*v)) in_.error(n, path_key(path, "name"), fmt::format("another step is already named '{}'", *v));
        s.name = *v;
      }
    } else {
      s.name = fmt::format("{}-{}", s.type, index + 1);
    }
    if (auto a = yaml_reader::child(node, "at"); a.IsDefined()) {
      if (auto d = in_.duration(a, path_key(path, "at"))) s.at = *d;
    } else {
      in_.error(node, path, fmt::format("{} is missing the required key 'at' (when it starts, e.g. at: 0s)", what));
    }
    read_step_end(node, path, what, *type, s);
    read_target(node, path, what, *type, s, x);

    bool confirmed = false;
    if (auto d = yaml_reader::child(node, "destructive"); d.IsDefined())
      confirmed = in_.flag(d, path_key(path, "destructive")).value_or(false);
    if (type->destructive && !confirmed)
      in_.error(type_node, type_path, fmt::format("'{}' destroys data; add 'destructive: true' to this step to confirm", s.type));

    const auto problems_before = in_.problems().size();
    s.parameters = in_.read_params(node, path, type->params, what);
    if (type->validate && in_.problems().size() == problems_before) {
      try {
        type->validate(s.parameters);
      } catch (const param_error& e) {
        report_param_error(node, path, e);
      }
    }
    x.timeline.steps.push_back(std::move(s));
  }

  void read_step_end(const YAML::Node& node, const std::string& path, const std::string& what,
                     const faults::fault_type& type, step& s) {
    auto for_node = yaml_reader::child(node, "for");
    auto until_node = yaml_reader::child(node, "until");
    if (type.action) {
      if (for_node.IsDefined()) in_.error(for_node, path_key(path, "for"), fmt::format("{} runs once and has no duration; remove 'for'", what));
      if (until_node.IsDefined()) in_.error(until_node, path_key(path, "until"), fmt::format("{} runs once; remove 'until'", what));
      return;
    }
    if (for_node.IsDefined())
      if (auto d = in_.duration(for_node, path_key(path, "for"))) {
        if (d->count() == 0) in_.error(for_node, path_key(path, "for"), "a fault must last longer than 0s");
        else s.duration = *d;
      }
    if (until_node.IsDefined()) {
      auto u = in_.text(until_node, path_key(path, "until")).value_or("");
      if (u == "recovered") s.end = step_end::recovered;
      else if (u == "manual") s.end = step_end::manual;
      else {
        s.end = step_end::after_step;
        s.until_step = u;
      }
    } else if (!for_node.IsDefined()) {
      in_.error(node, path, fmt::format("{} needs 'for: <duration>' or 'until: recovered | manual | <step name>'", what));
    }
    if (s.end == step_end::recovered && !s.duration)
      in_.error(until_node, path_key(path, "until"), "'until: recovered' needs 'for: <duration>' as its upper bound");
  }

  void read_target(const YAML::Node& node, const std::string& path, const std::string& what,
                   const faults::fault_type& type, step& s, const experiment& x) {
    auto t = yaml_reader::child(node, "target");
    if (type.target == faults::target_kind::none) {
      if (t.IsDefined()) in_.error(t, path_key(path, "target"), fmt::format("'{}' takes no target; remove 'target'", s.type));
      return;
    }
    if (!t.IsDefined()) {
      in_.error(node, path, fmt::format("{} is missing the required key 'target' ({})", what,
                                        type.target == faults::target_kind::proxy ? "a proxy name" : faults::to_string(type.target)));
      return;
    }
    auto v = in_.text(t, path_key(path, "target"));
    if (!v) return;
    s.target = *v;
    if (type.target == faults::target_kind::proxy) {
      const auto* p = x.find_proxy(*v);
      if (!p) {
        std::vector<std::string> names;
        for (const auto& pr : x.proxies) names.push_back(pr.name);
        std::string message = fmt::format("target '{}' is not a proxy of this experiment", *v);
        if (auto g = closest_match(*v, names)) message += fmt::format(" (did you mean '{}'?)", *g);
        else if (names.empty()) message += "; declare it under 'proxies'";
        else message += fmt::format(" (proxies: {})", join(names));
        in_.error(t, path_key(path, "target"), message);
      } else if (!type.protocol.empty() && p->protocol != type.protocol) {
        in_.error(t, path_key(path, "target"), fmt::format("'{}' needs a proxy with protocol: {}, but '{}' has protocol: {}",
                                                           s.type, type.protocol, p->name, p->protocol));
      }
    } else if (type.target == faults::target_kind::address) {
      try {
        parse_address(*v);
      } catch (const std::invalid_argument& e) {
        if (!x.find_proxy(*v)) in_.error(t, path_key(path, "target"), fmt::format("{} (or name a proxy of this experiment)", e.what()));
      }
    }
  }

  void resolve_until(const YAML::Node& steps, experiment& x) {
    for (auto& s : x.timeline.steps) {
      if (s.end != step_end::after_step) continue;
      auto node = yaml_reader::child(steps[s.index], "until");
      auto path = path_key(path_index("timeline.steps", s.index), "until");
      if (s.until_step == s.name) {
        in_.error(node, path, "a step cannot wait for itself to end");
        continue;
      }
      const auto* other = x.find_step(s.until_step);
      if (!other) {
        std::vector<std::string> names{"recovered", "manual"};
        for (const auto& o : x.timeline.steps) names.push_back(o.name);
        std::string message = fmt::format("'until: {}' names no step (use recovered, manual or a step name", s.until_step);
        message += ")";
        if (auto g = closest_match(s.until_step, names)) message += fmt::format("; did you mean '{}'?", *g);
        in_.error(node, path, message);
        continue;
      }
      if (other->at < s.at)
        in_.error(node, path, fmt::format("step '{}' starts at {} before this step ({}); it must not end before it starts",
                                          other->name, format_duration(other->at), format_duration(s.at)));
    }
    // Chains of `until` must not loop.
    for (const auto& s : x.timeline.steps) {
      std::set<std::string> seen{s.name};
      const step* cur = &s;
      while (cur && cur->end == step_end::after_step) {
        if (!seen.insert(cur->until_step).second) {
          in_.error(yaml_reader::child(steps[s.index], "until"), path_key(path_index("timeline.steps", s.index), "until"),
                    fmt::format("steps wait for each other in a loop ({})", cur->until_step));
          break;
        }
        cur = x.find_step(cur->until_step);
      }
    }
  }

  void read_expect(const YAML::Node& node, experiment& x) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!in_.expect_map(node, "expect", {"sla", "during_fault", "breaker", "mttd", "mttr", "score", "capacity"}, "expect")) return;
    if (auto c = yaml_reader::child(node, "capacity"); c.IsDefined()) read_capacity_expectation(c, node, x);
    if (auto s = yaml_reader::child(node, "sla"); s.IsDefined()) {
      x.expect.sla_where = in_.mark(s, "expect.sla");
      if (auto v = in_.text(s, "expect.sla")) {
        if (auto tier = sla_tier_from_string(*v); tier && *tier != sla_tier::none) {
          x.expect.sla = *tier;
          if (!x.load) in_.error(s, "expect.sla", "an SLA is judged on the load's requests; add a load section");
        } else {
          std::vector<std::string> tiers{"bronze", "silver", "gold", "platinum"};
          std::string message = fmt::format("unknown SLA tier '{}' (bronze 99.0%/1s, silver 99.5%/500ms, gold 99.9%/200ms, "
                                            "platinum 99.95%/100ms)", *v);
          if (auto g = closest_match(*v, tiers)) message += fmt::format("; did you mean '{}'?", *g);
          in_.error(s, "expect.sla", message);
        }
      }
    }
    x.expect.during_fault = read_rules(yaml_reader::child(node, "during_fault"), "expect.during_fault", x);
    if (auto b = yaml_reader::child(node, "breaker"); b.IsDefined()) read_breaker(b, x);
    const auto below = [&](const char* key, std::optional<nanoseconds>& out) {
      auto n = yaml_reader::child(node, key);
      if (!n.IsDefined()) return;
      auto path = path_key("expect", key);
      if (!in_.expect_map(n, path, {"below"}, key)) return;
      in_.require(n, path, "below", key);
      if (auto v = yaml_reader::child(n, "below"); v.IsDefined()) out = in_.duration(v, path_key(path, "below"));
      if (x.steady_state.require.empty())
        in_.error(n, path, fmt::format("{} is measured against the steady-state rules; add steady_state.require", key));
    };
    below("mttd", x.expect.mttd_below);
    below("mttr", x.expect.mttr_below);
    if (auto n = yaml_reader::child(node, "mttr"); n.IsDefined()) x.expect.mttr_where = in_.mark(n, "expect.mttr");
    if (auto s = yaml_reader::child(node, "score"); s.IsDefined()) {
      if (in_.expect_map(s, "expect.score", {"at_least"}, "score")) {
        in_.require(s, "expect.score", "at_least", "score");
        if (auto v = yaml_reader::child(s, "at_least"); v.IsDefined())
          if (auto n = in_.number(v, "expect.score.at_least")) {
            if (*n < 0 || *n > 100) in_.error(v, "expect.score.at_least", "the score runs from 0 to 100");
            else x.expect.score_at_least = *n;
          }
      }
    }
  }

  // expect.capacity: { at_least: 800/s, under_fault: { at_least: 200/s } }
  void read_capacity_expectation(const YAML::Node& c, const YAML::Node& expect, experiment& x) {
    const std::string path = "expect.capacity";
    capacity_expectation e;
    e.where = in_.mark(c, path);
    const auto rate_of = [&](const YAML::Node& n, const std::string& p) {
      return in_.convert<double>(n, p, [](const std::string& t) { return parse_rate(t); });
    };
    if (in_.expect_map(c, path, {"at_least", "under_fault"}, "capacity")) {
      if (auto a = yaml_reader::child(c, "at_least"); a.IsDefined()) e.at_least = rate_of(a, path + ".at_least");
      if (auto u = yaml_reader::child(c, "under_fault"); u.IsDefined()) {
        if (in_.expect_map(u, path + ".under_fault", {"at_least"}, "under_fault")) {
          in_.require(u, path + ".under_fault", "at_least", "under_fault");
          if (auto a = yaml_reader::child(u, "at_least"); a.IsDefined()) e.under_fault_at_least = rate_of(a, path + ".under_fault.at_least");
        }
        bool faults = false;
        for (const auto& s : x.timeline.steps) faults = faults || !s.is_action;
        if (!faults)
          in_.error(u, path + ".under_fault", "the capacity under fault is searched while the timeline's faults are active; "
                                              "add a timeline with at least one fault step");
      }
    }
    if (!x.load) in_.error(c, path, "the capacity is searched with the experiment's load; add load: { http: { ... } }");
    if (x.steady_state.require.empty() && x.capacity.require.empty())
      in_.error(c, path, "a capacity is the highest rate at which rules hold; add steady_state.require or load.capacity.require");
    if (!x.levels.empty()) in_.error(c, path, "load.levels and expect.capacity are two different runs; keep one per experiment");
    for (const char* other : {"sla", "during_fault", "breaker", "mttd", "mttr"})
      if (auto n = yaml_reader::child(expect, other); n.IsDefined())
        in_.error(n, path_key("expect", other), fmt::format("a capacity experiment is judged on its capacity; expect.{} belongs "
                                                            "to a fault timeline run (use a separate experiment)", other));
    x.expect.capacity = e;
  }

  void read_breaker(const YAML::Node& b, experiment& x) {
    const std::string path = "expect.breaker";
    if (!in_.expect_map(b, path, {"opens_within", "closes_within", "max_flaps", "probe"}, "breaker")) return;
    breaker_expectation e;
    e.where = in_.mark(b, path);
    if (auto n = yaml_reader::child(b, "opens_within"); n.IsDefined()) e.opens_within = in_.duration(n, path + ".opens_within");
    if (auto n = yaml_reader::child(b, "closes_within"); n.IsDefined()) e.closes_within = in_.duration(n, path + ".closes_within");
    if (auto n = yaml_reader::child(b, "max_flaps"); n.IsDefined()) e.max_flaps = in_.integer(n, path + ".max_flaps", 0);
    if (auto n = yaml_reader::child(b, "probe"); n.IsDefined())
      if (auto v = in_.text(n, path + ".probe")) {
        e.probe = *v;
        if (!x.find_probe(*v)) {
          std::vector<std::string> names;
          for (const auto& p : x.probes) names.push_back(p.name);
          std::string message = fmt::format("breaker probe '{}' is not a probe of this experiment", *v);
          if (auto g = closest_match(*v, names)) message += fmt::format(" (did you mean '{}'?)", *g);
          in_.error(n, path + ".probe", message);
        }
      }
    if (e.probe.empty() && !x.load)
      in_.error(b, path, "the breaker is seen from the load's responses or from a state probe; add a load section or 'probe:'");
    x.expect.breaker = e;
  }

  // Exclusive fault types (one root qdisc per device, one 'down' per proxy) must not overlap on
  // one target. Steps without a known end are taken to last until the end of the fault phase.
  void check_overlaps(const experiment& x) {
    const auto end_of = [](const step& s) -> std::optional<nanoseconds> {
      if (s.end == step_end::after_duration && s.duration) return s.at + *s.duration;
      return std::nullopt;
    };
    const auto& steps = x.timeline.steps;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const auto* type = steps[i].fault_type;
      if (!type || !type->exclusive || steps[i].is_action) continue;
      for (std::size_t j = i + 1; j < steps.size(); ++j) {
        const auto& a = steps[i];
        const auto& b = steps[j];
        if (b.type != a.type || b.target != a.target) continue;
        auto a_end = end_of(a);
        auto b_end = end_of(b);
        bool overlap = (!a_end || b.at < *a_end) && (!b_end || a.at < *b_end);
        if (overlap)
          in_.error(b.where, fmt::format("step '{}' overlaps step '{}': two '{}' faults cannot act on '{}' at the same time; "
                                         "start it after {} ends", b.name, a.name, a.type, a.target, a.name));
      }
    }
  }

  yaml_reader& in_;
  const catalogue& known_;
  probes::http_load_parts load_parts_;
  YAML::Node load_node_;
  std::size_t load_problems_before_ = 0;
};

}  // namespace

const proxy_spec* experiment::find_proxy(std::string_view n) const {
  for (const auto& p : proxies)
    if (p.name == n) return &p;
  return nullptr;
}

const probe_spec* experiment::find_probe(std::string_view n) const {
  for (const auto& p : probes)
    if (p.name == n) return &p;
  return nullptr;
}

const step* experiment::find_step(std::string_view n) const {
  for (const auto& s : timeline.steps)
    if (s.name == n) return &s;
  return nullptr;
}

nanoseconds experiment::planned_fault_phase() const {
  nanoseconds end{};
  for (const auto& s : timeline.steps) {
    end = std::max(end, s.at);
    if (s.duration) end = std::max(end, s.at + *s.duration);
  }
  return end;
}

const char* to_string(sla_tier tier) {
  switch (tier) {
    case sla_tier::none: return "none";
    case sla_tier::bronze: return "bronze";
    case sla_tier::silver: return "silver";
    case sla_tier::gold: return "gold";
    case sla_tier::platinum: return "platinum";
  }
  return "none";
}

std::optional<sla_tier> sla_tier_from_string(std::string_view name) {
  for (auto t : {sla_tier::none, sla_tier::bronze, sla_tier::silver, sla_tier::gold, sla_tier::platinum})
    if (name == to_string(t)) return t;
  return std::nullopt;
}

sla_target sla_target_of(sla_tier tier) {
  using std::chrono::milliseconds;
  switch (tier) {
    case sla_tier::bronze: return {tier, 0.99, milliseconds(1000)};
    case sla_tier::silver: return {tier, 0.995, milliseconds(500)};
    case sla_tier::gold: return {tier, 0.999, milliseconds(200)};
    case sla_tier::platinum: return {tier, 0.9995, milliseconds(100)};
    case sla_tier::none: break;
  }
  return {sla_tier::none, 0, nanoseconds::max()};
}

experiment parse_experiment(const std::string& yaml, const std::string& label, const catalogue& known,
                            const variables& vars) {
  yaml_reader in(label);
  auto root = in.parse(yaml);
  in.throw_if_failed();
  if (!root.IsDefined() || root.IsNull()) {
    in.error(source_mark{label, 1, 1, ""}, "the file is empty; an experiment starts with 'version: 1' and 'name:'");
    in.throw_if_failed();
  }
  in.substitute(root, vars, "", load_runtime_names(root));
  experiment_parser parser(in, known);
  auto x = parser.parse(root);
  in.throw_if_failed();
  YAML::Emitter out;
  out << root;
  x.resolved_yaml = out.c_str();
  x.file = label;
  return x;
}

experiment load_experiment(const std::filesystem::path& file, const catalogue& known, const variables& vars) {
  auto x = parse_experiment(read_file(file), file.string(), known, vars);
  x.file = file;
  return x;
}

bool is_suite_file(const std::filesystem::path& file) {
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec || size > limits::experiment_file_bytes) return false;  // loading it as an experiment says what is wrong
  try {
    auto root = YAML::LoadFile(file.string());
    return root.IsMap() && root["suite"].IsDefined();
  } catch (const YAML::Exception&) {
    return false;
  }
}

suite load_suite(const std::filesystem::path& file) {
  yaml_reader in(file.string());
  auto root = in.parse(read_file(file));
  in.throw_if_failed();
  suite s;
  s.file = file;
  if (in.expect_map(root, "", {"version", "suite", "description", "experiments"}, "a suite")) {
    if (auto v = yaml_reader::child(root, "version"); v.IsDefined()) {
      if (auto n = in.integer(v, "version"); n && *n != 1)
        in.error(v, "version", fmt::format("unsupported format version {}; this faultline reads version 1", *n));
    } else {
      in.error(root, "", "missing 'version: 1' at the top of the suite");
    }
    s.name = in.text(yaml_reader::child(root, "suite"), "suite").value_or("");
    in.require(root, "", "experiments", "the suite");
    if (auto list = yaml_reader::child(root, "experiments"); list.IsDefined()) {
      if (auto names = in.text_list(list, "experiments")) {
        for (std::size_t i = 0; i < names->size(); ++i) {
          auto path = file.parent_path() / (*names)[i];
          if (!std::filesystem::is_regular_file(path))
            in.error(list.IsSequence() ? list[i] : list, path_index("experiments", i),
                     fmt::format("no experiment file at '{}'", path.string()));
          else if (std::filesystem::equivalent(path, file))
            in.error(list[i], path_index("experiments", i), "a suite cannot list itself");
          else
            s.experiments.push_back(path);
        }
        if (names->empty()) in.error(list, "experiments", "the suite lists no experiments");
      }
    }
  }
  in.throw_if_failed();
  return s;
}

std::vector<std::filesystem::path> expand_inputs(const std::vector<std::filesystem::path>& inputs) {
  std::vector<std::filesystem::path> out;
  std::vector<diagnostic> problems;
  for (const auto& input : inputs) {
    if (std::filesystem::is_directory(input)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(input)) {
        auto ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml") && !is_suite_file(entry.path()))
          files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) problems.push_back({{input.string(), 0, 0, ""}, "the directory holds no experiment (*.yaml)"});
      out.insert(out.end(), files.begin(), files.end());
    } else if (std::filesystem::is_regular_file(input)) {
      if (is_suite_file(input)) {
        try {
          auto s = load_suite(input);
          out.insert(out.end(), s.experiments.begin(), s.experiments.end());
        } catch (const config_error& e) {
          problems.insert(problems.end(), e.problems().begin(), e.problems().end());
        }
      } else {
        out.push_back(input);
      }
    } else {
      problems.push_back({{input.string(), 0, 0, ""}, "no such file or directory"});
    }
  }
  if (!problems.empty()) throw config_error(std::move(problems));
  return out;
}

}  // namespace faultline::engine
