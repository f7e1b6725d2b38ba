#include "faults/proxy/tls_config.hpp"

#include "faults/proxy/proxy_set.hpp"

#include <fmt/format.h>

#include <initializer_list>
#include <string_view>

namespace faultline::proxy {
namespace {

using json = nlohmann::json;

[[noreturn]] void invalid(const std::string& message) { throw proxy_error(proxy_error::kind::invalid, message); }

void only_keys(const json& object, std::string_view where, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    bool found = false;
    std::string list;
    for (auto k : known) {
      found = found || key == k;
      list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
    }
    if (!found) invalid(fmt::format("unknown key '{}' in {} (known: {})", key, where, list));
  }
}

std::string text(const json& object, const char* key, std::string_view where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) invalid(fmt::format("{}.{} must be a string (a file name or a host name)", where, key));
  return it->get<std::string>();
}

// tls.alpn: a list of protocol names as ALPN carries them (1 to 255 bytes each), e.g. [h2, http/1.1].
std::vector<std::string> protocol_names(const json& object) {
  auto it = object.find("alpn");
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_array()) invalid("tls.alpn must be a list of protocol names, e.g. [h2, http/1.1]");
  std::vector<std::string> out;
  for (const auto& name : *it) {
    if (!name.is_string() || name.get<std::string>().empty() || name.get<std::string>().size() > 255)
      invalid(fmt::format("tls.alpn: {} is not a protocol name (1 to 255 characters, e.g. h2 or http/1.1)", name.dump()));
    out.push_back(name.get<std::string>());
  }
  return out;
}

std::optional<bool> flag(const json& object, const char* key, std::string_view where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) invalid(fmt::format("{}.{} must be true or false", where, key));
  return it->get<bool>();
}

tls_settings::mode parse_mode(const json& value, std::string_view where) {
  if (value.is_string()) {
    auto s = value.get<std::string>();
    if (s == "passthrough") return tls_settings::mode::passthrough;
    if (s == "terminate") return tls_settings::mode::terminate;
  }
  invalid(fmt::format("{} must be passthrough or terminate, not {}", where, value.dump()));
}

}  // namespace

tls_settings parse_tls_settings(const json& proxy_object) {
  tls_settings out;
  if (auto it = proxy_object.find("tls"); it != proxy_object.end() && !it->is_null()) {
    if (it->is_object()) {
      only_keys(*it, "tls", {"mode", "cert", "key", "generate", "ca_file", "alpn"});
      if (!it->contains("mode")) invalid("tls needs a mode: passthrough or terminate");
      out.client = parse_mode((*it)["mode"], "tls.mode");
      out.cert = text(*it, "cert", "tls");
      out.key = text(*it, "key", "tls");
      out.generate = flag(*it, "generate", "tls").value_or(false);
      out.ca_file = text(*it, "ca_file", "tls");
      out.alpn = protocol_names(*it);
    } else {
      out.client = parse_mode(*it, "tls");
    }
    if (out.client == tls_settings::mode::terminate) {
      const bool files = !out.cert.empty() || !out.key.empty();
      if (files && out.generate) invalid("tls: give either cert and key, or generate: true, not both");
      if (files && (out.cert.empty() || out.key.empty()))
        invalid(fmt::format("tls: a terminating proxy needs both cert and key (missing {})", out.cert.empty() ? "cert" : "key"));
      if (!files) out.generate = true;  // `tls: terminate` alone: a throwaway CA
    } else if (!out.cert.empty() || !out.key.empty() || out.generate || !out.ca_file.empty() || !out.alpn.empty()) {
      invalid("tls: cert, key, generate, ca_file and alpn only apply to mode: terminate");
    }
    if (!out.generate && !out.ca_file.empty()) invalid("tls.ca_file names where a generated CA is written; it needs generate: true");
  }
  if (auto it = proxy_object.find("upstream_tls"); it != proxy_object.end() && !it->is_null() && *it != json(false)) {
    upstream_tls_settings u;
    if (it->is_object()) {
      only_keys(*it, "upstream_tls", {"verify", "ca", "server_name"});
      u.verify = flag(*it, "verify", "upstream_tls").value_or(true);
      u.ca = text(*it, "ca", "upstream_tls");
      u.server_name = text(*it, "server_name", "upstream_tls");
    } else if (*it != json(true)) {
      invalid("upstream_tls must be true or { verify, ca, server_name }");
    }
    if (out.client == tls_settings::mode::passthrough)
      invalid("upstream_tls needs tls: terminate (a passthrough proxy does not see the plaintext)");
    out.upstream = u;
    if (!out.alpn.empty())
      invalid("tls.alpn is for a plain upstream: with upstream_tls the client's ALPN offer is passed to the upstream and its "
              "choice back; remove tls.alpn");
  }
  return out;
}

void write_tls_settings(const tls_settings& s, nlohmann::ordered_json& out) {
  if (s.client == tls_settings::mode::passthrough) out["tls"] = {{"mode", "passthrough"}};
  if (s.terminates()) {
    nlohmann::ordered_json t{{"mode", "terminate"}};
    if (s.generate) {
      t["generate"] = true;
      t["ca_file"] = s.ca_file;
    } else {
      t["cert"] = s.cert;
      t["key"] = s.key;
    }
    if (!s.alpn.empty()) t["alpn"] = s.alpn;
    out["tls"] = t;
  }
  if (s.upstream)
    out["upstream_tls"] = {{"verify", s.upstream->verify}, {"ca", s.upstream->ca}, {"server_name", s.upstream->server_name}};
}

}  // namespace faultline::proxy
