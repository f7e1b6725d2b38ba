#include "core/units.hpp"
#include "engine/cli/cli.hpp"
#include "engine/load_stages.hpp"
#include "probes/load_generator.hpp"
#include "probes/timeline.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <optional>
#include <sys/resource.h>
#include <thread>

namespace faultline::cli {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

struct load_options {
  std::string url;
  std::string rate;
  std::int64_t users = 0;
  std::string think_time = "0s";
  std::vector<std::string> stages;
  std::string duration;
  std::int64_t connections = 0;
  int threads = 1;
  std::string timeout = "2s";
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string body;
  int expect_status = 0;
  std::int64_t max_requests = 0;
  std::string timeline_file;
  bool json = false;
};

// Bad input: names the option and the fix; exit code 2, nothing was sent.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::atomic<bool> interrupted{false};
extern "C" void on_interrupt(int) { interrupted = true; }

double ms(nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string format_ms(nanoseconds d) {
  const double v = ms(d);
  if (v >= 1000) return fmt::format("{:.2f}s", v / 1000);
  if (v >= 10) return fmt::format("{:.1f}ms", v);
  return fmt::format("{:.2f}ms", v);
}

template <typename F>
auto option(const char* name, F&& parse) {
  try {
    return parse();
  } catch (const unit_error& e) {
    throw usage_error(fmt::format("{}: {}", name, e.what()));
  }
}

// The shape and the parameters, as the experiment loader would give them to the generator.
probes::http_load_config make_config(const load_options& o, std::optional<nanoseconds>& duration) {
  const int given = int(!o.rate.empty()) + int(o.users > 0) + int(!o.stages.empty());
  if (given != 1)
    throw usage_error(given == 0 ? "give one of --rate (e.g. --rate 200/s), --users (e.g. --users 50) or --stage"
                                 : "give only one of --rate, --users or --stage");
  if (!o.duration.empty()) duration = option("--duration", [&] { return parse_duration(o.duration); });
  if (duration && duration->count() <= 0) throw usage_error("--duration: must be more than 0 (e.g. --duration 30s)");
  const auto think = option("--think-time", [&] { return parse_duration(o.think_time); });
  probes::load_shape shape;
  if (!o.rate.empty()) {
    probes::load_stage s;
    s.rate_from = s.rate_to = option("--rate", [&] { return parse_rate(o.rate); });
    if (s.rate_from <= 0) throw usage_error("--rate: must be more than 0 (e.g. --rate 200/s)");
    s.duration = duration.value_or(nanoseconds(0));
    shape.push_back(s);
  } else if (o.users > 0) {
    probes::load_stage s;
    s.kind = probes::load_stage::model::closed;
    s.users = o.users;
    s.think_time = think;
    s.duration = duration.value_or(nanoseconds(0));
    shape.push_back(s);
  } else {
    shape = option("--stage", [&] { return engine::parse_load_stages(o.stages, think); });
  }
  const bool endless = shape.back().duration.count() == 0;
  if (endless && !duration && o.max_requests <= 0)
    throw usage_error("--duration: required (e.g. --duration 30s), unless every stage has a duration or --max-requests is given");

  params p;
  p.set("url", o.url);
  p.set("method", o.method);
  std::map<std::string, std::string> headers;
  for (const auto& h : o.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0)
      throw usage_error(fmt::format("--header: '{}' is not 'Name: value' (e.g. --header 'Authorization: Bearer x')", h));
    auto value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    headers[h.substr(0, colon)] = value;
  }
  p.set("headers", headers);
  if (!o.body.empty()) p.set("body", o.body);
  p.set("timeout", option("--timeout", [&] { return parse_duration(o.timeout); }));
  p.set("connections", o.connections);
  if (o.expect_status) p.set("expect.status", std::int64_t{o.expect_status});
  if (o.max_requests > 0) p.set("max_requests", o.max_requests);
  try {
    return probes::http_load_config::from(p, std::move(shape));
  } catch (const param_error& e) {
    throw usage_error(fmt::format("{}: {}", e.param() == "url" ? std::string("URL") : "--" + e.param(), e.what()));
  }
}

struct cpu_time {
  double user = 0;
  double system = 0;
};
cpu_time cpu_used() {
  rusage r{};
  ::getrusage(RUSAGE_SELF, &r);
  return {static_cast<double>(r.ru_utime.tv_sec) + static_cast<double>(r.ru_utime.tv_usec) / 1e6,
          static_cast<double>(r.ru_stime.tv_sec) + static_cast<double>(r.ru_stime.tv_usec) / 1e6};
}

nlohmann::json summary_json(const load_options& o, const probes::http_load_config& config, const probes::load_stats& st,
                            const probes::series_stats& all, double elapsed, const cpu_time& cpu, bool was_interrupted) {
  nlohmann::json outcomes = nlohmann::json::object();
  for (std::size_t i = 0; i < probes::outcome_count; ++i)
    outcomes[std::string(probes::to_string(static_cast<probes::outcome>(i)))] = all.outcomes[i];
  const auto& h = all.latency;
  return {
      {"url", o.url},
      {"model", config.shape.front().kind == probes::load_stage::model::open ? "open" : "closed"},
      {"elapsed_s", elapsed},
      {"interrupted", was_interrupted},
      {"requests",
       {{"scheduled", st.requests_scheduled_total},
        {"sent", st.requests_sent_total},
        {"completed", st.requests_completed_total},
        {"late", st.requests_late_total},
        {"dropped", st.requests_dropped_total}}},
      {"throughput_per_s", elapsed > 0 ? static_cast<double>(all.total()) / elapsed : 0.0},
      {"ok_per_s", elapsed > 0 ? static_cast<double>(all.count(probes::outcome::ok)) / elapsed : 0.0},
      {"error_rate", all.error_rate()},
      {"outcomes", outcomes},
      {"latency_ms",
       {{"min", ms(h.min())},
        {"mean", ms(h.mean())},
        {"p50", ms(h.percentile(50))},
        {"p90", ms(h.percentile(90))},
        {"p95", ms(h.percentile(95))},
        {"p99", ms(h.percentile(99))},
        {"p99_9", ms(h.percentile(99.9))},
        {"max", ms(h.max())}}},
      {"connections_opened", st.connections_opened_total},
      {"threads", o.threads},
      {"cpu_s", {{"user", cpu.user}, {"system", cpu.system}}},
  };
}

void print_summary(std::ostream& out, const nlohmann::json& s, const probes::series_stats& all) {
  out << fmt::format("\n{} requests in {:.2f}s: {:.1f}/s ({:.1f}/s ok), error rate {:.2f}%\n", all.total(),
                     s["elapsed_s"].get<double>(), s["throughput_per_s"].get<double>(), s["ok_per_s"].get<double>(),
                     100 * all.error_rate());
  std::string errors;
  for (std::size_t i = 1; i < probes::outcome_count; ++i)
    if (all.outcomes[i]) errors += fmt::format("  {} {}", probes::to_string(static_cast<probes::outcome>(i)), all.outcomes[i]);
  out << "errors:" << (errors.empty() ? "  none" : errors) << "\n";
  const auto& h = all.latency;
  out << fmt::format("latency (from intended send time): p50 {}  p90 {}  p95 {}  p99 {}  p99.9 {}  max {}\n",
                     format_ms(h.percentile(50)), format_ms(h.percentile(90)), format_ms(h.percentile(95)),
                     format_ms(h.percentile(99)), format_ms(h.percentile(99.9)), format_ms(h.max()));
  const auto& r = s["requests"];
  out << fmt::format("sent {}  late to send {}  dropped {}  connections opened {}  cpu {:.2f}s user {:.2f}s system\n",
                     r["sent"].get<std::uint64_t>(), r["late"].get<std::uint64_t>(), r["dropped"].get<std::uint64_t>(),
                     s["connections_opened"].get<std::uint64_t>(), s["cpu_s"]["user"].get<double>(),
                     s["cpu_s"]["system"].get<double>());
}

int run_load(const load_options& o) {
  std::optional<nanoseconds> duration;
  auto config = std::make_shared<const probes::http_load_config>(make_config(o, duration));
  if (o.threads < 1 || o.threads > 64) throw usage_error("--threads: must be from 1 to 64");

  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards;
  std::vector<boost::asio::any_io_executor> executors;
  for (int i = 0; i < o.threads; ++i) {
    contexts.push_back(std::make_unique<boost::asio::io_context>(1));
    guards.push_back(boost::asio::make_work_guard(*contexts.back()));
    executors.push_back(contexts.back()->get_executor());
  }
  const auto start = probes::clock::now() + 20ms;  // let the threads come up first
  probes::timeline_options timeline_options;
  timeline_options.max_logged_samples = 0;  // the windows are all this command reports
  probes::timeline tl(start, timeline_options);
  probes::load_generator generator(executors, config, tl.series("load"));
  std::atomic<bool> finished{false};
  generator.on_done([&finished] { finished = true; });

  struct sigaction action {};
  action.sa_handler = on_interrupt;
  struct sigaction old_int {}, old_term {};
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);

  std::vector<std::thread> threads;
  for (auto& c : contexts) threads.emplace_back([&c] { c->run(); });
  generator.start(start);

  auto& live = o.json ? std::cerr : std::cout;
  live << fmt::format("faultline load {}: {}, timeout {}, {} thread{}\n", o.url,
                      !o.rate.empty() ? "open model at " + o.rate
                                      : (o.users > 0 ? fmt::format("{} users", o.users) : fmt::format("{} stages", o.stages.size())),
                      format_duration(config->timeout), o.threads, o.threads == 1 ? "" : "s");
  const auto stop_at = duration ? start + *duration : probes::clock::time_point::max();
  bool stop_sent = false;
  std::int64_t second = 1;
  probes::load_stats previous;
  while (!finished) {
    std::this_thread::sleep_for(20ms);
    const auto now = probes::clock::now();
    if (!stop_sent && (interrupted || now >= stop_at)) {
      generator.stop();
      stop_sent = true;
    }
    if (now >= start + std::chrono::seconds(second)) {
      // The window that just closed (by intended send time); answers still in flight come later.
      const auto w = tl.windows("load", tl.window_range(second - 1));
      const auto st = generator.stats();
      const auto& h = w.empty() ? compact_histogram{} : w.front().latency;
      const auto total = w.empty() ? 0 : w.front().total();
      live << fmt::format("{:>4}s  sent {:>7}/s  done {:>7}  errors {:>5}  p50 {:>8}  p99 {:>8}  max {:>8}  in flight {:>5}  "
                          "connections {:>4}  late {}\n",
                          second, st.requests_sent_total - previous.requests_sent_total, total,
                          w.empty() ? 0 : w.front().errors(), format_ms(h.percentile(50)), format_ms(h.percentile(99)),
                          format_ms(h.max()), st.requests_in_flight, st.connections_open,
                          st.requests_late_total - previous.requests_late_total);
      live.flush();
      previous = st;
      ++second;
    }
  }
  const auto end = probes::clock::now();
  guards.clear();
  for (auto& c : contexts) c->stop();
  for (auto& t : threads) t.join();
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);

  tl.finish(end - start);
  const auto all = tl.stats("load", probes::time_range{});
  const double elapsed = std::chrono::duration<double>(std::min(end, stop_at) - start).count();
  const auto summary = summary_json(o, *config, generator.stats(), all, elapsed, cpu_used(), interrupted);
  if (!o.timeline_file.empty()) {
    std::ofstream f(o.timeline_file);
    f << tl.to_json().dump() << "\n";
    if (!f) throw std::runtime_error("cannot write the timeline to " + o.timeline_file);
  }
  if (o.json)
    std::cout << summary.dump(2) << "\n";
  else
    print_summary(std::cout, summary, all);
  return interrupted ? exit_aborted : exit_ok;
}

}  // namespace

// `faultline load URL --rate R --duration D`: ad-hoc HTTP load with a live line per second and a
// summary (docs/load.md).
void add_load_command(CLI::App& app, context& ctx) {
  auto* cmd = app.add_subcommand("load", "Send HTTP load to a URL (open model: latency from the intended send time) and summarise it");
  auto o = std::make_shared<load_options>();
  cmd->add_option("url", o->url, "http://host:port/path")->required();
  cmd->add_option("--rate", o->rate, "open model: arrivals per second, e.g. 200/s or 12k/min");
  cmd->add_option("--users", o->users, "closed model: virtual users, each waiting for its response");
  cmd->add_option("--think-time", o->think_time, "closed model: pause between a user's requests (default 0s)");
  cmd->add_option("--stage", o->stages, "a load stage, repeatable: '100/s for 10s', 'ramp to 1000/s over 30s', '50 users for 1m'");
  cmd->add_option("--duration,-d", o->duration, "how long to send, e.g. 30s");
  cmd->add_option("--connections,-c", o->connections, "connection pool size (default 0: opened on demand)");
  cmd->add_option("--threads,-t", o->threads, "worker threads, each with its own connections (default 1)");
  cmd->add_option("--timeout", o->timeout, "a request that takes longer is a timeout (default 2s)");
  cmd->add_option("--method,-X", o->method, "HTTP method (default GET)");
  cmd->add_option("--header,-H", o->headers, "extra header 'Name: value', repeatable");
  cmd->add_option("--body", o->body, "request body");
  cmd->add_option("--expect-status", o->expect_status, "the status counted as ok (default: any 2xx or 3xx)");
  cmd->add_option("--max-requests", o->max_requests, "stop after this many requests");
  cmd->add_option("--timeline", o->timeline_file, "write the Timeline (per-second windows) as JSON to this file");
  cmd->add_flag("--json", o->json, "print the summary as JSON (the live lines go to stderr)");
  cmd->callback([&ctx, o] {
    try {
      ctx.exit = run_load(*o);
    } catch (const usage_error& e) {
      std::cerr << "faultline load: " << e.what() << "\n";
      ctx.exit = exit_invalid;
    }
  });
}

}  // namespace faultline::cli
