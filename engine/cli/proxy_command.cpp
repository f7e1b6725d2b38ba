#include "core/address.hpp"
#include "core/units.hpp"
#include "engine/cli/cli.hpp"
#include "faults/proxy/api_server.hpp"
#include "faults/proxy/control_api.hpp"
#include "faults/proxy/log.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/toxic_registry.hpp"

#include "faultline_version.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace faultline::cli {
namespace {

namespace asio = boost::asio;
namespace fp = faultline::proxy;

int run_daemon(const std::string& api, const std::string& config, std::string token, bool allow_non_loopback, std::size_t threads) {
  asio::ip::tcp::endpoint endpoint;
  try {
    endpoint = listen_endpoint(api);
  } catch (const std::exception& e) {
    std::cerr << fmt::format("faultline proxy: --api {}: {} (write host:port, e.g. 127.0.0.1:8474)\n", api, e.what());
    return exit_invalid;
  }
  if (!endpoint.address().is_loopback()) {
    if (!allow_non_loopback) {
      std::cerr << fmt::format("faultline proxy: --api {} is not a loopback address; anyone who reaches it can break your "
                               "traffic. Use 127.0.0.1, or pass --allow-non-loopback (and --token) to serve it there\n",
                               api);
      return exit_invalid;
    }
    std::cerr << fmt::format("faultline proxy: warning: the control API listens on {}, which is not loopback{}\n", api,
                             token.empty() ? " and has no --token" : "");
  }
  if (token.empty())
    if (const char* env = std::getenv("FAULTLINE_PROXY_TOKEN")) token = env;

  fp::proxy_log()->set_level(spdlog::level::info);
  fp::proxy_set::options options;
  options.threads = threads;
  options.allow_non_loopback = allow_non_loopback;
  fp::proxy_set proxies(options);
  auto toxics = std::make_shared<fp::toxic_registry>();
  fp::register_builtin_toxics(*toxics);
  fp::control_api control(proxies, toxics, {token, faultline::version});

  if (!config.empty()) {
    std::ifstream in(config);
    if (!in) {
      std::cerr << fmt::format("faultline proxy: --config {}: cannot read the file\n", config);
      return exit_invalid;
    }
    std::stringstream text;
    text << in.rdbuf();
    try {
      auto created = control.populate(nlohmann::json::parse(text.str()));
      std::cerr << fmt::format("faultline proxy: {} prox{} from {}\n", created.size(), created.size() == 1 ? "y" : "ies", config);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number such as 1e400
      std::cerr << fmt::format("faultline proxy: {}: not valid JSON: {}\n", config, e.what());
      return exit_invalid;
    } catch (const fp::api_error& e) {
      std::cerr << fmt::format("faultline proxy: {}: {}; fix the file (a JSON array of {{name, listen, upstream, enabled, toxics}})\n",
                               config, e.message);
      return exit_invalid;
    }
  }

  asio::io_context ioc(1);
  std::unique_ptr<fp::api_server> server;
  try {
    server = std::make_unique<fp::api_server>(ioc, endpoint, control);
  } catch (const boost::system::system_error& e) {
    std::cerr << fmt::format("faultline proxy: cannot listen on {}: {}\n", api, e.code().message());
    return exit_invalid;
  }
  server->start();
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    std::cerr << fmt::format("faultline proxy: signal {}: closing the API and every proxy\n", signal);
    server->stop();
    ioc.stop();
  });
  const auto bound = server->local_endpoint();
  std::cerr << fmt::format("faultline proxy: control API on http://{}:{} (Toxiproxy 2.x compatible){}\n",
                           bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string(),
                           bound.port(), token.empty() ? "" : ", bearer token required");
  ioc.run();
  proxies.stop();
  return exit_ok;
}

}  // namespace

// `faultline proxy`: the TCP fault proxy as a daemon with a Toxiproxy-compatible HTTP API.
void add_proxy_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("proxy", "Run TCP fault proxies with a Toxiproxy-compatible control API (until SIGINT/SIGTERM)");
  struct options {
    std::string api = "127.0.0.1:8474";
    std::string config;
    std::string token;
    bool allow_non_loopback = false;
    std::size_t threads = 2;
  };
  auto opts = std::make_shared<options>();
  cmd->add_option("--api", opts->api, "host:port of the HTTP control API")->capture_default_str();
  cmd->add_option("--config", opts->config, "JSON file of proxies to create at start (Toxiproxy's format, plus toxics)");
  cmd->add_option("--token", opts->token, "require 'Authorization: Bearer <token>' (or set FAULTLINE_PROXY_TOKEN)");
  cmd->add_flag("--allow-non-loopback", opts->allow_non_loopback, "let the API and proxies listen on non-loopback addresses");
  cmd->add_option("--threads", opts->threads, "I/O threads for the proxies")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->callback([&ctx, opts] {
    ctx.exit = run_daemon(opts->api, opts->config, opts->token, opts->allow_non_loopback, opts->threads);
  });
}

}  // namespace faultline::cli
