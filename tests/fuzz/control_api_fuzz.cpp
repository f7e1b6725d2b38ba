// libFuzzer target for the control API as the `faultline proxy` daemon serves it: the input is
// what a client sends on one keep-alive connection; Beast's request parser reads request after
// request with the daemon's body limit, each goes through to_api_request, control_api::handle on
// a fresh proxy_set (real listeners, real toxics) and to_http_response, and the response is
// written out. Checks, besides "no crash, leak or sanitizer report": a request is never answered
// by the handler's catch-all (an internal error logged by the proxy logger; a 500 is only a
// listener the OS refused), and a refused request changes nothing the API shows.
//
// Its inputs create listeners, so it refuses to run outside a network namespace of its own (where
// its ports cannot take another program's): scripts/fuzz.sh runs it in a fresh one. A request that
// names `tls.ca_file` (where a generated CA is written) is skipped: the fuzzer must not write files
// wherever its inputs say.

#include "core/limits.hpp"
#include "faults/proxy/api_server.hpp"
#include "faults/proxy/control_api.hpp"
#include "faults/proxy/log.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/toxic_registry.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>

#include <net/if.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>

namespace fp = faultline::proxy;
namespace http = boost::beast::http;

namespace {

// Keeps what the proxy logger says at error level: the handler's catch-all logs there.
class error_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  std::string first_error() {
    std::lock_guard lock(mutex_);
    return first_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    first_.clear();
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level >= spdlog::level::err && first_.empty()) first_.assign(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

private:
  std::string first_;  // the first error since clear()
};

std::shared_ptr<error_sink> errors;

std::shared_ptr<const fp::toxic_registry> builtin_toxics() {
  static const auto registry = [] {
    auto r = std::make_shared<fp::toxic_registry>();
    fp::register_builtin_toxics(*r);
    return r;
  }();
  return registry;
}

bool only_loopback_interfaces() {
  auto* names = ::if_nameindex();
  if (!names) return false;
  bool only_lo = true;
  for (auto* n = names; n->if_index != 0; ++n) only_lo = only_lo && std::string_view(n->if_name) == "lo";
  ::if_freenameindex(names);
  return only_lo;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "control_api_fuzz: %s\n", what.c_str());
  std::abort();
}

// What GET /proxies shows: a refused request must leave it as it was.
std::string visible_state(fp::control_api& api) { return api.handle({"GET", "/proxies", "", "", ""}).body; }

bool may_change_state(const std::string& method) { return method != "GET" && method != "HEAD"; }

// True when a JSON body has a "ca_file" key anywhere (as the API's parser reads it, escapes and all).
bool names_a_file_to_write(const nlohmann::json& j) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items())
      if (key == "ca_file" || names_a_file_to_write(value)) return true;
  } else if (j.is_array()) {
    for (const auto& value : j)
      if (names_a_file_to_write(value)) return true;
  }
  return false;
}

bool writes_a_file(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  return !j.is_discarded() && names_a_file_to_write(j);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!only_loopback_interfaces()) {
    std::fprintf(stderr,
                 "control_api_fuzz: its inputs create listeners, so it runs only in a network namespace of its own: run it "
                 "through scripts/fuzz.sh --target control_api\n");
    std::exit(2);
  }
  errors = std::make_shared<error_sink>();
  auto& log = *fp::proxy_log();
  log.sinks().clear();
  log.sinks().push_back(errors);
  log.set_level(spdlog::level::err);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fp::proxy_set::options options;
  options.threads = 1;
  fp::proxy_set proxies(options);
  fp::control_api api(proxies, builtin_toxics(), {"", "fuzz"});
  errors->clear();

  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int n = 0; n < 16 && !rest.empty(); ++n) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(faultline::limits::api_body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done() && !rest.empty()) {
      const auto used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec || used == 0) break;
    }
    if (!parser.is_done()) break;  // the daemon waits for the rest, then closes (or answers 413)

    const auto& message = parser.get();
    const auto request = fp::to_api_request(message);
    if (writes_a_file(request.body)) continue;
    const auto before = may_change_state(request.method) ? visible_state(api) : std::string();
    auto result = api.handle(request);
    if (auto internal = errors->first_error(); !internal.empty())
      fail("request " + std::to_string(n + 1) + " (" + request.method + " " + request.target + ") reached the catch-all: " + internal);
    if (result.status >= 400 && may_change_state(request.method) && visible_state(api) != before)
      fail("request " + std::to_string(n + 1) + " (" + request.method + " " + request.target + ") was refused with " +
           std::to_string(result.status) + " but changed the proxies");
    const auto response = fp::to_http_response(std::move(result), message.version(), message.keep_alive());
    std::ostringstream wire;
    wire << response;
    if (!response.keep_alive()) break;
  }
  return 0;
}
