// tls and upstream_tls of a proxy: what the one parser accepts, and the error each mistake gets.
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/tls_config.hpp"

#include <catch2/catch.hpp>

namespace fp = faultline::proxy;
using nlohmann::json;

TEST_CASE("tls settings: the short and the long forms", "[faults][proxy]") {
  auto none = fp::parse_tls_settings(json::object());
  CHECK(none.client == fp::tls_settings::mode::none);
  CHECK_FALSE(none.any());

  auto pass = fp::parse_tls_settings(json{{"tls", "passthrough"}});
  CHECK(pass.client == fp::tls_settings::mode::passthrough);
  CHECK_FALSE(pass.any());

  auto short_form = fp::parse_tls_settings(json{{"tls", "terminate"}});
  CHECK(short_form.terminates());
  CHECK(short_form.generate);  // `terminate` alone: a throwaway CA

  auto files = fp::parse_tls_settings(json{{"tls", {{"mode", "terminate"}, {"cert", "a.pem"}, {"key", "a.key"}}},
                                           {"upstream_tls", {{"verify", false}, {"server_name", "db.internal"}}}});
  CHECK(files.cert == "a.pem");
  CHECK(files.key == "a.key");
  CHECK_FALSE(files.generate);
  REQUIRE(files.upstream);
  CHECK_FALSE(files.upstream->verify);
  CHECK(files.upstream->server_name == "db.internal");

  auto upstream_only = fp::parse_tls_settings(json{{"upstream_tls", true}});
  CHECK(upstream_only.client == fp::tls_settings::mode::none);
  REQUIRE(upstream_only.upstream);
  CHECK(upstream_only.upstream->verify);
  CHECK(upstream_only.any());
}

TEST_CASE("tls settings: written back as they were read", "[faults][proxy]") {
  auto in = json{{"tls", {{"mode", "terminate"}, {"generate", true}, {"ca_file", "/tmp/ca.pem"}}},
                 {"upstream_tls", {{"verify", true}, {"ca", "up.pem"}, {"server_name", ""}}}};
  nlohmann::ordered_json out;
  fp::write_tls_settings(fp::parse_tls_settings(in), out);
  CHECK(json::parse(out.dump()) == in);
  auto with_alpn = json{{"tls", {{"mode", "terminate"}, {"generate", true}, {"ca_file", "/tmp/ca.pem"}, {"alpn", {"h2", "http/1.1"}}}}};
  const auto parsed = fp::parse_tls_settings(with_alpn);
  CHECK(parsed.alpn == std::vector<std::string>{"h2", "http/1.1"});
  nlohmann::ordered_json again;
  fp::write_tls_settings(parsed, again);
  CHECK(json::parse(again.dump()) == with_alpn);
}

TEST_CASE("tls settings: each mistake names the key and the fix", "[faults][proxy]") {
  const std::pair<json, const char*> table[] = {
      {json{{"tls", "terminated"}}, "tls must be passthrough or terminate, not \"terminated\""},
      {json{{"tls", {{"cert", "a.pem"}}}}, "tls needs a mode: passthrough or terminate"},
      {json{{"tls", {{"mode", "terminate"}, {"cert", "a.pem"}}}}, "tls: a terminating proxy needs both cert and key (missing key)"},
      {json{{"tls", {{"mode", "terminate"}, {"cert", "a.pem"}, {"key", "a.key"}, {"generate", true}}}},
       "tls: give either cert and key, or generate: true, not both"},
      {json{{"tls", {{"mode", "passthrough"}, {"cert", "a.pem"}}}},
       "tls: cert, key, generate, ca_file and alpn only apply to mode: terminate"},
      {json{{"tls", {{"mode", "passthrough"}, {"alpn", {"h2"}}}}},
       "tls: cert, key, generate, ca_file and alpn only apply to mode: terminate"},
      {json{{"tls", {{"mode", "terminate"}, {"certificate", "a.pem"}}}},
       "unknown key 'certificate' in tls (known: mode, cert, key, generate, ca_file, alpn)"},
      {json{{"tls", {{"mode", "terminate"}, {"alpn", "h2"}}}}, "tls.alpn must be a list of protocol names, e.g. [h2, http/1.1]"},
      {json{{"tls", {{"mode", "terminate"}, {"alpn", {"h2", ""}}}}},
       "tls.alpn: \"\" is not a protocol name (1 to 255 characters, e.g. h2 or http/1.1)"},
      {json{{"tls", {{"mode", "terminate"}, {"alpn", {"h2"}}}}, {"upstream_tls", true}},
       "tls.alpn is for a plain upstream: with upstream_tls the client's ALPN offer is passed to the upstream and its choice "
       "back; remove tls.alpn"},
      {json{{"tls", {{"mode", "terminate"}, {"generate", "yes"}}}}, "tls.generate must be true or false"},
      {json{{"tls", "passthrough"}, {"upstream_tls", true}},
       "upstream_tls needs tls: terminate (a passthrough proxy does not see the plaintext)"},
      {json{{"upstream_tls", "yes"}}, "upstream_tls must be true or { verify, ca, server_name }"},
      {json{{"upstream_tls", {{"verify", true}, {"sni", "x"}}}}, "unknown key 'sni' in upstream_tls (known: verify, ca, server_name)"},
  };
  for (const auto& [input, message] : table) {
    INFO(input.dump());
    CHECK_THROWS_WITH(fp::parse_tls_settings(input), message);
  }
}
