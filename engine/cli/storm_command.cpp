#include "core/address.hpp"
#include "core/units.hpp"
#include "engine/cli/cli.hpp"
#include "faults/storm/connection_storm.hpp"
#include "faults/storm/storm_fleet.hpp"
#include "faults/storm/storm_worker.hpp"
#include "faults/storm/worker_process.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <iostream>

namespace faultline::cli {
namespace {

namespace asio = boost::asio;
using std::chrono::nanoseconds;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct storm_options {
  std::string target;
  std::map<std::string, std::string> given;  // parameter name -> text as typed
  std::vector<std::string> sources;
  bool churn = false;
  std::optional<std::string> duration;  // churn only
  bool json = false;
  bool quiet = false;
};

// The typed value of one option, checked against the parameter's schema entry.
param_value parse_option(const param_spec& spec, const std::string& text) {
  const auto bound = [&](auto v) {
    if (auto problem = out_of_range(spec, v)) throw param_error(spec.name, *problem);
  };
  try {
    switch (spec.kind) {
      case param_kind::integer: {
        auto v = parse_integer(text);
        bound(v);
        return v;
      }
      case param_kind::rate: {
        // A bare number is per second here: `--rate 5000` reads naturally on a command line.
        double v = text.find_first_not_of("0123456789.") == std::string::npos ? parse_number(text)
                                                                               : parse_rate(text);
        bound(v);
        return v;
      }
      case param_kind::duration: {
        auto v = parse_duration(text);
        bound(v);
        return v;
      }
      case param_kind::choice:
        if (std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end())
          throw param_error(spec.name, fmt::format("'{}' is not a valid {} (choose one of: {})", text, spec.name,
                                                   fmt::join(spec.choices, ", ")));
        return text;
      default:
        return text;
    }
  } catch (const std::invalid_argument& e) {
    if (auto* pe = dynamic_cast<const param_error*>(&e)) throw *pe;
    throw param_error(spec.name, e.what());
  }
}

params storm_params_from(const storm_options& o) {
  params p;
  for (const auto& spec : storm::storm_params()) {
    if (auto it = o.given.find(spec.name); it != o.given.end()) p.set(spec.name, parse_option(spec, it->second));
    else if (spec.default_value) p.set(spec.name, *spec.default_value);
  }
  p.set("churn", o.churn);
  if (!o.sources.empty()) {
    std::vector<std::string> entries;
    for (const auto& s : o.sources) {
      std::size_t start = 0;
      while (start <= s.size()) {
        auto comma = s.find(',', start);
        auto part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!part.empty()) entries.push_back(part);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    p.set("source_addresses", entries);
  }
  // The command's own default: a hold ends after 10 s (an experiment holds until its step ends).
  if (!o.churn && !p.has("hold")) p.set("hold", nanoseconds(std::chrono::seconds(10)));
  return p;
}

std::string option_of(const std::string& param) {
  if (param == "source_addresses") return "--source";
  std::string out = "--" + param;
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

double seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

std::string latency_line(const compact_histogram& h) {
  if (h.empty()) return "-";
  const auto ms = [](nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); };
  return fmt::format("p50 {:.2f} ms  p90 {:.2f} ms  p99 {:.2f} ms  max {:.2f} ms  ({} samples)", ms(h.percentile(50)),
                     ms(h.percentile(90)), ms(h.percentile(99)), ms(h.max()), h.count());
}

std::string live_line(const storm::storm_config& config, const storm::storm_report& r, double per_second) {
  using storm::connection_outcome;
  const auto& c = r.counts;
  return fmt::format("storm {} {:>6.1f}s  attempts {}  held {} (peak {})  established {}  refused {}  reset {}  "
                     "timed_out {}  handshake_failed {}  closed_early {}  local_error {}  {:.0f}/s",
                     config.target(), seconds(r.elapsed), c.attempts, c.held, c.peak_held,
                     c[connection_outcome::established], c[connection_outcome::refused], c[connection_outcome::reset],
                     c[connection_outcome::timed_out], c[connection_outcome::handshake_failed],
                     c[connection_outcome::closed_early], c[connection_outcome::local_error], per_second);
}

void print_summary(const storm::storm_config& config, const storm::storm_report& r,
                   const std::vector<std::string>& problems) {
  using storm::connection_outcome;
  const auto& c = r.counts;
  const auto sources = config.source_addresses.empty()
                           ? std::string("source address chosen by the kernel")
                           : fmt::format("{} source address{}", config.source_addresses.size(),
                                         config.source_addresses.size() == 1 ? "" : "es");
  std::cout << fmt::format("connection storm against {} ({} handshake, {}), {} worker{}, {}\n", config.target(),
                           storm::to_string(config.handshake), config.churn ? "churn" : "hold", r.workers,
                           r.workers == 1 ? "" : "s", sources);
  std::cout << fmt::format("  attempts           {}\n", c.attempts);
  std::cout << fmt::format("  opened             {} ({:.0f}/s over {:.2f}s{})\n", c.opened, r.opened_per_second(),
                           seconds(r.ramp.count() > 0 ? r.ramp : r.elapsed), r.ramp.count() > 0 ? " of ramp" : "");
  std::cout << fmt::format("  peak held          {}\n", c.peak_held);
  for (std::size_t i = 0; i < storm::outcome_count; ++i) {
    const auto o = static_cast<connection_outcome>(i);
    std::cout << fmt::format("  {:<18} {}\n", storm::to_string(o), c[o]);
  }
  if (c.cancelled) std::cout << fmt::format("  {:<18} {} (in progress when stopped)\n", "cancelled", c.cancelled);
  std::cout << fmt::format("  closed by storm    {}   dropped by server while held {}\n", c.closed_by_storm,
                           c.dropped_while_held);
  std::cout << fmt::format("  connect latency    {}\n", latency_line(r.connect_latency));
  std::cout << fmt::format("  handshake latency  {}\n", latency_line(r.handshake_latency));
  if (r.peak_rss_bytes > 0) {
    std::cout << fmt::format("  generator memory   {:.1f} MiB peak RSS over {} worker{}", r.peak_rss_bytes / 1048576.0,
                             r.workers, r.workers == 1 ? "" : "s");
    if (c.peak_held > 0)
      std::cout << fmt::format(" ({:.1f} KiB per held connection)", r.peak_rss_bytes / 1024.0 / static_cast<double>(c.peak_held));
    std::cout << "\n";
  }
  for (const auto& p : problems) std::cout << "  problem: " << p << "\n";
}

// Runs the storm: live line each second, stop at the end of the hold, the churn duration or a
// signal. Returns true when a signal cut it short.
asio::awaitable<bool> drive(std::shared_ptr<storm::storm_fleet> fleet, const storm_options& o, nanoseconds churn_for) {
  auto ex = co_await asio::this_coro::executor;
  bool interrupted = false;
  asio::signal_set signals(ex, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) interrupted = true;
  });
  co_await fleet->start();
  const auto begin = std::chrono::steady_clock::now();
  auto next_line = begin + std::chrono::seconds(1);
  std::int64_t last_opened = 0;
  asio::steady_timer tick(ex);
  while (!fleet->finished() && !interrupted) {
    if (o.churn && std::chrono::steady_clock::now() - begin >= churn_for) break;
    tick.expires_after(std::chrono::milliseconds(50));
    co_await tick.async_wait(use_tuple);
    if (std::chrono::steady_clock::now() >= next_line) {
      next_line += std::chrono::seconds(1);
      auto r = fleet->report();
      if (!o.quiet) std::cerr << live_line(fleet->config(), r, static_cast<double>(r.counts.opened - last_opened)) << "\n";
      last_opened = r.counts.opened;
    }
  }
  signals.cancel();
  co_await fleet->stop();
  co_return interrupted;
}

}  // namespace

// `faultline storm TARGET ...`: an ad-hoc connection storm with a live line and a summary; and
// the hidden `storm-worker` mode the storm's worker processes run in.
void add_storm_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("storm", "Open many connections at once against TARGET (host:port), hold or churn "
                                          "them, and class every outcome");
  auto o = std::make_shared<storm_options>();
  cmd->add_option("target", o->target, "host:port to storm")->required();
  const auto param = [&](const std::string& name, const std::string& help) {
    cmd->add_option_function<std::string>(option_of(name), [o, name](const std::string& v) { o->given[name] = v; }, help);
  };
  param("connections", "connections to open (churn: open at once, at most); default 1000");
  param("rate", "attempts per second, e.g. 5000 or 20k/s; default: as fast as --max-pending allows");
  param("hold", "hold: keep them this long once all are open (default 10s); churn: each connection's lifetime (default 0)");
  param("handshake", "tcp (default), http, websocket, postgres or redis");
  param("timeout", "limit for connect plus handshake per connection; default 5s");
  param("max_pending", "without --rate: attempts in progress at once; default 1000");
  param("workers", "worker processes; default: as many as the open-files limit needs");
  param("path", "http request path and websocket resource; default /");
  param("user", "postgres StartupMessage user; default postgres");
  param("database", "postgres database; default: the user");
  cmd->add_option("--source", o->sources, "source addresses, e.g. 127.0.0.2-127.0.0.20 (repeat or comma-separate)");
  cmd->add_flag("--churn", o->churn, "open, close and open again until --duration ends");
  cmd->add_option_function<std::string>("--duration", [o](const std::string& v) { o->duration = v; },
                                        "churn: how long to churn; default 10s");
  cmd->add_flag("--json", o->json, "print the summary as JSON");
  cmd->add_flag("--quiet", o->quiet, "no live line");
  cmd->callback([&ctx, o] {
    address where;
    try {
      where = parse_address(o->target);
    } catch (const address_error&) {
      std::cerr << fmt::format("faultline storm: '{}' is not host:port; write e.g. 127.0.0.1:8080\n", o->target);
      ctx.exit = exit_invalid;
      return;
    }
    storm::storm_config config;
    nanoseconds churn_for{};
    try {
      config = storm::storm_config_from_params(storm_params_from(*o), where.host, where.port);
      if (o->duration && !o->churn) throw std::invalid_argument("only with --churn; a hold lasts --hold");
      churn_for = parse_duration(o->duration.value_or("10s"));
    } catch (const param_error& e) {
      std::cerr << fmt::format("faultline storm: {}: {}\n", option_of(e.param()), e.what());
      ctx.exit = exit_invalid;
      return;
    } catch (const std::invalid_argument& e) {
      std::cerr << fmt::format("faultline storm: --duration: {}\n", e.what());
      ctx.exit = exit_invalid;
      return;
    }
    asio::io_context io(1);
    std::shared_ptr<storm::storm_fleet> fleet;
    try {
      fleet = storm::storm_fleet::spawn(io.get_executor(), config);
    } catch (const faults::fault_error& e) {
      std::cerr << "faultline " << e.what() << "\n";
      ctx.exit = exit_invalid;
      return;
    }
    bool interrupted = false;
    std::exception_ptr failure;
    asio::co_spawn(io, drive(fleet, *o, churn_for), [&](std::exception_ptr e, bool cut_short) {
      failure = e;
      interrupted = cut_short;
    });
    io.run();
    if (failure) {
      fleet->kill_now();
      try {
        std::rethrow_exception(failure);
      } catch (const faults::fault_error& e) {
        std::cerr << "faultline " << e.what() << "\n";
        ctx.exit = exit_invalid;
        return;
      }
    }
    const auto report = fleet->report();
    if (o->json) {
      auto out = storm::storm_evidence(fleet->config(), report, fleet->problems()).details;
      out["report"] = storm::to_json(report);
      out["interrupted"] = interrupted;
      out["coordinator_peak_rss_bytes"] = storm::peak_resident_bytes();  // this process, not the workers
      std::cout << out.dump(2) << "\n";
    } else {
      print_summary(fleet->config(), report, fleet->problems());
    }
    ctx.exit = interrupted ? exit_aborted : fleet->problems().empty() ? exit_ok : exit_internal;
  });

  auto* worker = app.add_subcommand("storm-worker", "");
  worker->group("");  // hidden: run by `storm` and connection_storm, never by hand
  worker->callback([&ctx] { ctx.exit = storm::run_storm_worker(STDIN_FILENO, STDOUT_FILENO); });
}

}  // namespace faultline::cli
