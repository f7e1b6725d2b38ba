#include "engine/cli/cli.hpp"

#include "core/address.hpp"
#include "engine/cli/completion.hpp"
#include "engine/cli/man_page.hpp"
#include "engine/cli/version_text.hpp"
#include "engine/runner/session.hpp"
#include "engine/state_file.hpp"
#include "engine/yaml_reader.hpp"
#include "faultline_version.hpp"

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include <iostream>
#include <optional>

namespace faultline::cli {

engine::variables parse_vars(const std::vector<std::string>& vars) {
  engine::variables out;
  std::vector<engine::diagnostic> problems;
  for (const auto& v : vars) {
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      problems.push_back({{"--var", 0, 0, ""}, fmt::format("'{}' is not name=value", v)});
    else
      out.values[v.substr(0, eq)] = v.substr(eq + 1);
  }
  if (!problems.empty()) throw engine::config_error(std::move(problems));
  return out;
}

namespace {

// After CLI11's own message: the command or option a word that CLI11 did not take was probably
// meant to be. Options are looked up in the chosen command, commands at the top.
std::optional<std::string> did_you_mean(CLI::App& app) {
  auto chosen = app.get_subcommands();
  CLI::App* scope = chosen.empty() ? &app : chosen.front();
  for (const auto& word : app.remaining(true)) {
    std::vector<std::string> names;
    if (word.rfind("-", 0) == 0) {
      for (const auto* o : scope->get_options())
        for (const auto& n : o->get_lnames()) names.push_back("--" + n);
      auto key = word.substr(0, word.find('='));
      if (auto g = engine::closest_match(key, names)) return fmt::format("unknown option '{}': did you mean '{}'?", key, *g);
    } else if (chosen.empty()) {
      for (const auto* c : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(c->get_name());
      if (auto g = engine::closest_match(word, names)) return fmt::format("unknown command '{}': did you mean '{}'?", word, *g);
    }
  }
  return std::nullopt;
}

}  // namespace

boost::asio::ip::tcp::endpoint listen_endpoint(const std::string& text) {
  namespace asio = boost::asio;
  auto hp = parse_address(text, {.port_zero = true});
  boost::system::error_code ec;
  auto address = asio::ip::make_address(hp.host, ec);
  if (ec) {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    auto results = resolver.resolve(hp.host, std::to_string(hp.port), ec);
    if (ec || results.empty()) throw std::invalid_argument(fmt::format("cannot resolve '{}'", hp.host));
    address = results.begin()->endpoint().address();
    for (const auto& r : results)
      if (r.endpoint().address().is_v4()) address = r.endpoint().address();
  }
  return {address, hp.port};
}

int main(int argc, char** argv, std::string_view commit) {
  context ctx;
  faults::register_builtin_faults(ctx.faults);
  probes::register_builtin_probes(ctx.probes);

  CLI::App app{"faultline: chaos and resilience testing. Injects faults, measures how the system "
               "degrades and recovers, and scores it against targets."};
  app.set_version_flag("--version", version_text(commit), "Print the version, the commit and the libraries it was built with");
  app.require_subcommand(1);
  app.fallthrough(false);
  add_validate_command(app, ctx);
  add_run_command(app, ctx);
  add_list_command(app, ctx);
  add_load_command(app, ctx);
  add_capacity_command(app, ctx);
  add_proxy_command(app, ctx);
  add_recover_command(app, ctx);
  add_report_command(app, ctx);
  add_diff_command(app, ctx);
  add_storm_command(app, ctx);
  // Hidden: the build writes the manual page and the bash completion from the CLI itself.
  app.add_option_function<std::string>(
         "--generate",
         [&](const std::string& what) {
           std::cout << (what == "man" ? render_man_page(app, ctx, faultline::version) : render_bash_completion(app));
           throw CLI::Success();
         },
         "")
      ->check(CLI::IsMember({"man", "bash-completion"}))
      ->group("");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    if (code == 0) return exit_ok;
    if (auto hint = did_you_mean(app)) std::cerr << "faultline: " << *hint << "\n";
    return exit_invalid;
  } catch (const engine::config_error& e) {
    std::cerr << e.what() << "\n";
    return exit_invalid;
  } catch (const engine::state_file_error& e) {
    std::cerr << "faultline: " << e.what() << "\n";
    return exit_invalid;
  } catch (const engine::preflight_error& e) {
    std::cerr << "faultline: " << e.what() << "\n";
    return exit_invalid;
  } catch (const faults::capability_error& e) {
    std::cerr << "faultline: " << e.what() << "\n";
    return exit_invalid;
  } catch (const std::exception& e) {
    std::cerr << "faultline: internal error: " << e.what() << "\n";
    return exit_internal;
  }
  return ctx.exit;
}

}  // namespace faultline::cli
