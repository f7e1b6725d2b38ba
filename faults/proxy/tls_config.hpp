#pragma once
// A proxy's TLS settings, parsed once from the JSON of the control API (the experiment loader
// hands its YAML over as JSON, so both read them here): whether the proxy passes TLS through or
// terminates it, with which certificate, and whether it speaks TLS to the upstream.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace faultline::proxy {

struct upstream_tls_settings {
  bool verify = true;       // check the upstream's certificate chain and name
  std::string ca;           // PEM file of the CAs to trust; empty: the system's
  std::string server_name;  // SNI and the name checked; empty: the upstream's host
};

struct tls_settings {
  enum class mode { none, passthrough, terminate };
  mode client = mode::none;  // none and passthrough both forward bytes; passthrough says it was meant
  std::string cert;          // terminate: PEM certificate (chain) file ...
  std::string key;           // ... and its private key file
  bool generate = false;     // terminate: a throwaway CA and a leaf for the listen host instead
  std::string ca_file;       // generate: where the CA certificate is written (empty: a temporary file)
  // terminate with a plain upstream: the ALPN protocols the proxy may choose, in its order of
  // preference (empty: none). With upstream_tls the client's offer goes upstream instead.
  std::vector<std::string> alpn;
  std::optional<upstream_tls_settings> upstream;

  bool terminates() const { return client == mode::terminate; }
  bool any() const { return client == mode::terminate || upstream.has_value(); }
};

// Reads the keys "tls" and "upstream_tls" of a proxy object (either may be absent):
//   tls: "passthrough" | "terminate" (generate: true) | { mode, cert, key, generate, ca_file, alpn }
//   upstream_tls: true | { verify, ca, server_name }
// Throws proxy_error(invalid) naming the key and the fix.
tls_settings parse_tls_settings(const nlohmann::json& proxy_object);

// The same keys as written back in the proxy's JSON; ca_file is the file actually written.
void write_tls_settings(const tls_settings& settings, nlohmann::ordered_json& proxy_object);

}  // namespace faultline::proxy
