#include "faults/storm/connection_storm.hpp"

#include "core/address.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "faults/storm/storm_fleet.hpp"
#include "faults/storm/worker_process.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>

namespace faultline::storm {
namespace {

using boost::asio::awaitable;

double ms(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

nlohmann::json latency_summary(const compact_histogram& h) {
  if (h.empty()) return {{"count", 0}};
  return {{"count", h.count()},         {"p50_ms", ms(h.percentile(50))}, {"p90_ms", ms(h.percentile(90))},
          {"p99_ms", ms(h.percentile(99))}, {"max_ms", ms(h.max())}};
}

// The target as host:port; nothing when it is not one (then it names a proxy).
std::optional<address> target_address(std::string_view text) {
  try {
    return parse_address(text);
  } catch (const address_error&) {
    return std::nullopt;
  }
}

class connection_storm final : public faults::fault {
public:
  connection_storm(const params& p, const faults::fault_context& ctx) {
    if (!ctx.executor) throw faults::fault_error("connection_storm needs an executor to run on");
    auto where = target_address(ctx.target);
    if (!where) {
      proxy_name_ = ctx.target;
      proxies_ = ctx.proxies;
      where = proxy_address();
    }
    fleet_ = storm_fleet::spawn(ctx.executor, storm_config_from_params(p, where->host, where->port));
  }

  ~connection_storm() override { fleet_->kill_now(); }

  // Resolves the target and checks that the worker processes came up: a storm that cannot run
  // is known before the experiment starts.
  void preflight() override { fleet_->preflight(); }

  awaitable<void> inject() override {
    if (!proxy_name_.empty()) {
      // A proxy restarted since (a changed listen, or port 0) listens elsewhere now.
      auto where = proxy_address();
      if (where->host != fleet_->config().host || where->port != fleet_->config().port)
        fleet_->retarget(where->host, where->port);
    }
    co_await fleet_->start();
  }

  awaitable<void> revert() override { co_await fleet_->stop(); }

  faults::evidence collect_evidence() const override {
    auto e = storm_evidence(fleet_->config(), fleet_->report(), fleet_->problems());
    if (!proxy_name_.empty()) e.details["proxy"] = proxy_name_;
    return e;
  }

  nlohmann::json undo_record() const override {
    nlohmann::json workers = nlohmann::json::array();
    for (const auto& w : fleet_->workers()) workers.push_back(to_json(w));
    return {{"target", fleet_->config().target()}, {"workers", std::move(workers)}};
  }

private:
  // The listen address of the proxy the target names.
  std::optional<address> proxy_address() const {
    std::optional<proxy::proxy_info> info;
    if (proxies_) info = proxies_->find(proxy_name_);
    if (!info)
      throw faults::fault_error(fmt::format("connection_storm: target '{}' is neither host:port nor a proxy of this "
                                            "run; write e.g. 127.0.0.1:8080 or name a proxy under 'proxies'",
                                            proxy_name_));
    auto where = target_address(info->listen);
    if (!where)
      throw faults::fault_error(fmt::format("connection_storm: proxy '{}' does not listen yet ({})", proxy_name_,
                                            info->listen));
    return where;
  }

  std::string proxy_name_;  // when the target names a proxy
  const proxy::proxy_set* proxies_ = nullptr;
  std::shared_ptr<storm_fleet> fleet_;
};

}  // namespace


faults::evidence storm_evidence(const storm_config& config, const storm_report& report,
                                const std::vector<std::string>& problems) {
  const auto& c = report.counts;
  faults::evidence e;
  e.observed = c.finished() - c[connection_outcome::local_error] > 0;
  std::string classes;
  for (std::size_t i = 0; i < outcome_count; ++i) {
    const auto o = static_cast<connection_outcome>(i);
    if (c[o] == 0) continue;
    classes += fmt::format("{}{} {}", classes.empty() ? "" : ", ", c[o], to_string(o));
  }
  e.summary = fmt::format("{} connections held at peak; {} attempts{}{}", c.peak_held, c.attempts,
                          classes.empty() ? "" : ": ", classes);
  if (!report.connect_latency.empty())
    e.summary += fmt::format("; connect p99 {:.1f} ms", ms(report.connect_latency.percentile(99)));
  nlohmann::json outcomes = nlohmann::json::object();
  for (std::size_t i = 0; i < outcome_count; ++i) {
    const auto o = static_cast<connection_outcome>(i);
    outcomes[std::string(to_string(o))] = c[o];
  }
  e.details = {
      {"attempts", c.attempts},
      {"cancelled", c.cancelled},
      {"closed_by_storm", c.closed_by_storm},
      {"connect_latency", latency_summary(report.connect_latency)},
      {"dropped_while_held", c.dropped_while_held},
      {"elapsed_ms", ms(report.elapsed)},
      {"handshake", to_string(config.handshake)},
      {"handshake_latency", latency_summary(report.handshake_latency)},
      {"mode", config.churn ? "churn" : "hold"},
      {"opened", c.opened},
      {"opened_per_second", report.opened_per_second()},
      {"outcomes", std::move(outcomes)},
      {"peak_held", c.peak_held},
      {"peak_rss_bytes", report.peak_rss_bytes},
      {"problems", problems},
      {"ramp_ms", ms(report.ramp)},
      {"source_addresses", config.source_addresses.size()},
      {"target", config.target()},
      {"workers", report.workers},
  };
  return e;
}

void undo_connection_storm(const nlohmann::json& record) {
  std::vector<std::string> survivors;
  try {
    for (const auto& w : record.at("workers")) {
      const auto id = process_id_from_json(w);
      if (!kill_process(id)) survivors.push_back(std::to_string(id.pid));
    }
  } catch (const nlohmann::json::exception& e) {
    throw faults::fault_error(fmt::format("connection_storm undo record is malformed: {}", e.what()));
  }
  if (!survivors.empty())
    throw faults::fault_error(fmt::format("storm worker(s) {} still run after SIGKILL", fmt::join(survivors, ", ")));
}

std::vector<faults::fault_type> storm_fault_types() {
  faults::fault_type t;
  t.name = "connection_storm";
  t.summary = "open many connections at once (held or churned) with a protocol handshake; every outcome classed";
  t.family = "storm";
  t.target = faults::target_kind::address;
  t.params = storm_params();
  t.validate = validate_storm_params;
  t.create = [](const params& p, const faults::fault_context& ctx) -> std::unique_ptr<faults::fault> {
    return std::make_unique<connection_storm>(p, ctx);
  };
  t.undo = undo_connection_storm;
  std::vector<faults::fault_type> out;
  out.push_back(std::move(t));
  return out;
}

}  // namespace faultline::storm
