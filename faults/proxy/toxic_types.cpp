#include "faults/proxy/toxic_types.hpp"

#include "faults/proxy/bandwidth.hpp"
#include "faults/proxy/blackhole.hpp"
#include "faults/proxy/latency.hpp"
#include "faults/proxy/limit_data.hpp"
#include "faults/proxy/proxy.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/reset_peer.hpp"
#include "faults/proxy/slicer.hpp"
#include "faults/proxy/slow_close.hpp"
#include "faults/proxy/timeout.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace faultline::proxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

// Every toxic acts on one direction and on a share of connections, applied by the link.
param_schema with_common(param_schema own) {
  own.push_back({"stream", param_kind::choice, "direction: downstream (server -> client) or upstream (client -> server)",
                 std::string("downstream"), false, {}, {}, {"downstream", "upstream"}});
  own.push_back({"toxicity", param_kind::fraction, "share of connections affected (0..1 or %)", 1.0, false, 0.0, 1.0});
  return own;
}

std::string millis(nanoseconds d) {
  auto ns = d.count();
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6);
}

std::string bytes_text(std::uint64_t n) {
  if (n >= 10u << 20) return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1 << 20));
  if (n >= 10u << 10) return fmt::format("{:.1f} KiB", static_cast<double>(n) / (1 << 10));
  return fmt::format("{} bytes", n);
}

std::string plural(std::uint64_t n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); }

// What a toxic's counters say it did: the summary line and whether an effect was seen.
using describe_fn = std::function<faults::evidence(const toxic_stats&)>;

class toxic_fault final : public faults::fault {
public:
  toxic_fault(faults::fault_context ctx, toxic_spec spec, describe_fn describe)
      : ctx_(std::move(ctx)), spec_(std::move(spec)), describe_(std::move(describe)) {}

  asio::awaitable<void> inject() override {
    if (!ctx_.proxies) throw faults::fault_error(fmt::format("{}: no proxies run in this process", spec_.config->type()));
    try {
      auto info = ctx_.proxies->add_toxic(ctx_.target, spec_);
      name_ = info.name;
      counters_ = info.counters;
    } catch (const proxy_error& e) {
      throw faults::fault_error(fmt::format("{} on proxy '{}': {}", spec_.config->type(), ctx_.target, e.what()));
    }
    co_return;
  }

  asio::awaitable<void> revert() override {
    if (!ctx_.proxies || name_.empty()) co_return;
    try {
      ctx_.proxies->remove_toxic(ctx_.target, name_);
    } catch (const proxy_error& e) {
      // Already gone (the proxy was removed, or someone removed the toxic): nothing left to undo.
      if (e.what_kind() != proxy_error::kind::not_found && e.what_kind() != proxy_error::kind::toxic_not_found) throw;
    }
    co_return;
  }

  faults::evidence collect_evidence() const override {
    if (!counters_) return {false, fmt::format("{} was not injected", spec_.config->type()), nlohmann::json::object()};
    const auto stats = counters_->snapshot();
    auto e = describe_(stats);
    e.details = stats.to_json();
    e.details["proxy"] = ctx_.target;
    e.details["toxic"] = name_;
    e.details["type"] = std::string(spec_.config->type());
    e.details["stream"] = to_string(spec_.stream);
    e.details["toxicity"] = spec_.toxicity;
    e.details["attributes"] = nlohmann::json::parse(spec_.config->attributes().dump());
    return e;
  }

private:
  faults::fault_context ctx_;
  toxic_spec spec_;
  describe_fn describe_;
  std::string name_;
  std::shared_ptr<const toxic_counters> counters_;
};

using config_fn = std::function<std::shared_ptr<const toxic_config>(const params&)>;

faults::fault_type toxic_type(std::string name, std::string summary, param_schema own, config_fn make, describe_fn describe) {
  faults::fault_type t;
  t.name = std::move(name);
  t.summary = std::move(summary);
  t.family = "proxy";
  t.target = faults::target_kind::proxy;
  t.params = with_common(std::move(own));
  t.create = [make = std::move(make), describe = std::move(describe)](const params& p, const faults::fault_context& ctx) {
    toxic_spec spec;
    spec.name = ctx.step_name;  // unique within a run; empty falls back to <type>_<stream>
    spec.stream = p.text("stream") == "upstream" ? direction::upstream : direction::downstream;
    spec.toxicity = p.number("toxicity");
    spec.config = make(p);
    return std::unique_ptr<faults::fault>(std::make_unique<toxic_fault>(ctx, std::move(spec), describe));
  };
  return t;
}

// down: the proxy stops listening (new connections are refused by the kernel) and closes the
// connections it has; revert() listens again on the same address.
class down_fault final : public faults::fault {
public:
  explicit down_fault(faults::fault_context ctx) : ctx_(std::move(ctx)) {}

  asio::awaitable<void> inject() override {
    if (!ctx_.proxies) throw faults::fault_error("down: no proxies run in this process");
    try {
      auto info = ctx_.proxies->find(ctx_.target);
      if (!info) throw proxy_error(proxy_error::kind::not_found, "proxy not found");
      listen_ = info->listen;
      dropped_ = ctx_.proxies->stats(ctx_.target).connections_active;
      ctx_.proxies->set_enabled(ctx_.target, false);
      injected_ = true;
    } catch (const proxy_error& e) {
      throw faults::fault_error(fmt::format("down on proxy '{}': {}", ctx_.target, e.what()));
    }
    check_ = co_await probe_refused();
  }

  asio::awaitable<void> revert() override {
    if (!ctx_.proxies || !injected_) co_return;
    try {
      ctx_.proxies->set_enabled(ctx_.target, true);
    } catch (const proxy_error& e) {
      if (e.what_kind() == proxy_error::kind::not_found) co_return;
      throw faults::fault_error(fmt::format("down on proxy '{}': cannot listen again: {}", ctx_.target, e.what()));
    }
    co_return;
  }

  faults::evidence collect_evidence() const override {
    faults::evidence e;
    e.observed = check_ == "refused" || dropped_ > 0;
    if (!injected_) e.summary = "down was not injected";
    else e.summary = fmt::format("new connections to {} {}; {} dropped", listen_, check_ == "refused" ? "refused" : "checked: " + check_,
                                 plural(dropped_, "open connection", "open connections"));
    e.details = {{"proxy", ctx_.target}, {"listen", listen_}, {"connect_check", check_}, {"connections_dropped", dropped_}};
    return e;
  }

private:
  // Connects to the address the proxy listened on: proof that it now refuses.
  asio::awaitable<std::string> probe_refused() {
    using namespace asio::experimental::awaitable_operators;
    try {
      auto where = proxy_address(listen_, "dial");
      asio::ip::tcp::endpoint ep(asio::ip::make_address(where.host), where.port);
      asio::ip::tcp::socket socket(ctx_.executor);
      asio::steady_timer timer(ctx_.executor, 1s);
      auto result = co_await (socket.async_connect(ep, asio::as_tuple(asio::use_awaitable)) ||
                              timer.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (result.index() == 1) co_return std::string("timed out");
      auto [ec] = std::get<0>(result);
      if (ec == asio::error::connection_refused) co_return std::string("refused");
      if (!ec) co_return std::string("accepted by another listener");
      co_return ec.message();
    } catch (const std::exception& e) {
      co_return std::string("not checked: ") + e.what();
    }
  }

  faults::fault_context ctx_;
  std::string listen_;
  std::uint64_t dropped_ = 0;
  std::string check_ = "not checked";
  bool injected_ = false;
};

faults::evidence seen(bool observed, std::string summary) { return {observed, std::move(summary), nlohmann::json::object()}; }

std::string on_links(const toxic_stats& s) {
  return plural(s.links_affected_total, "connection direction", "connection directions");
}

}  // namespace

std::vector<faults::fault_type> toxic_fault_types() {
  std::vector<faults::fault_type> out;

  auto latency = toxic_type(
      "latency", "delay data by latency +/- jitter",
      {
          {"latency", param_kind::duration, "added delay", nanoseconds(0), false, 0.0},
          {"jitter", param_kind::duration, "uniform +/- variation", nanoseconds(0), false, 0.0},
      },
      [](const params& p) { return std::make_shared<latency_toxic>(p.duration("latency"), p.duration("jitter")); },
      [](const toxic_stats& s) {
        auto avg = s.chunks_delayed_total ? nanoseconds(s.delay_ns_total / s.chunks_delayed_total) : nanoseconds(0);
        return seen(s.chunks_delayed_total > 0, fmt::format("{} ({}) delayed by {} on average on {}", plural(s.chunks_delayed_total, "chunk", "chunks"),
                                                            bytes_text(s.bytes_delayed_total), millis(avg), on_links(s)));
      });
  latency.validate = [](const params& p) {
    if (p.duration("jitter") > p.duration("latency"))
      throw param_error("jitter", fmt::format("jitter ({}) is larger than latency ({}): delays would be cut off at 0; make "
                                              "jitter at most the latency",
                                              millis(p.duration("jitter")), millis(p.duration("latency"))));
  };
  out.push_back(std::move(latency));

  out.push_back(toxic_type(
      "bandwidth", "limit throughput (0 passes nothing)",
      {
          {"rate", param_kind::bandwidth, "bytes per second (KB = 1000 bytes)", {}, true, 0.0},
      },
      [](const params& p) { return std::make_shared<bandwidth_toxic>(p.number("rate")); },
      [](const toxic_stats& s) {
        return seen(s.bytes_delayed_total > 0, fmt::format("{} of {} held back by the rate limit on {}", bytes_text(s.bytes_delayed_total),
                                                           bytes_text(s.bytes_in_total), on_links(s)));
      }));

  out.push_back(toxic_type(
      "slow_close", "delay the close of the connection",
      {
          {"delay", param_kind::duration, "delay before the close is passed on", nanoseconds(0), false, 0.0},
      },
      [](const params& p) { return std::make_shared<slow_close_toxic>(p.duration("delay")); },
      [](const toxic_stats& s) {
        return seen(s.closes_delayed_total > 0, fmt::format("{} passed on late", plural(s.closes_delayed_total, "close", "closes")));
      }));

  out.push_back(toxic_type(
      "timeout", "stop all data and close after the timeout (0: never close)",
      {
          {"timeout", param_kind::duration, "time before the connection is closed", nanoseconds(0), false, 0.0},
      },
      [](const params& p) { return std::make_shared<timeout_toxic>(p.duration("timeout")); },
      [](const toxic_stats& s) {
        return seen(s.bytes_dropped_total > 0 || s.connections_closed_total > 0,
                    fmt::format("{} dropped, {} closed on {}", bytes_text(s.bytes_dropped_total),
                                plural(s.connections_closed_total, "connection", "connections"), on_links(s)));
      }));

  out.push_back(toxic_type(
      "reset_peer", "reset the connection (RST) after the timeout",
      {
          {"timeout", param_kind::duration, "time before the reset", nanoseconds(0), false, 0.0},
      },
      [](const params& p) { return std::make_shared<reset_peer_toxic>(p.duration("timeout")); },
      [](const toxic_stats& s) {
        return seen(s.connections_reset_total > 0, fmt::format("{} reset", plural(s.connections_reset_total, "connection", "connections")));
      }));

  auto slicer = toxic_type(
      "slicer", "cut data into small pieces with a delay between them",
      {
          {"average_size", param_kind::size, "average piece size", std::int64_t(1), false, 1.0},
          {"size_variation", param_kind::size, "piece size variation", std::int64_t(0), false, 0.0},
          {"delay", param_kind::duration, "delay between pieces", nanoseconds(0), false, 0.0},
      },
      [](const params& p) {
        return std::make_shared<slicer_toxic>(static_cast<std::size_t>(p.integer("average_size")),
                                              static_cast<std::size_t>(p.integer("size_variation")), p.duration("delay"));
      },
      [](const toxic_stats& s) {
        return seen(s.chunks_out_total > s.chunks_in_total,
                    fmt::format("{} cut into {}", plural(s.chunks_in_total, "chunk", "chunks"), plural(s.chunks_out_total, "piece", "pieces")));
      });
  slicer.validate = [](const params& p) {
    if (p.integer("size_variation") >= p.integer("average_size"))
      throw param_error("size_variation", fmt::format("size_variation ({} bytes) must be smaller than average_size ({} bytes)",
                                                      p.integer("size_variation"), p.integer("average_size")));
  };
  out.push_back(std::move(slicer));

  out.push_back(toxic_type(
      "limit_data", "close the connection after a number of bytes",
      {
          {"bytes", param_kind::size, "bytes passed before the close", {}, true, 0.0},
      },
      [](const params& p) { return std::make_shared<limit_data_toxic>(static_cast<std::uint64_t>(p.integer("bytes"))); },
      [](const toxic_stats& s) {
        return seen(s.connections_closed_total > 0, fmt::format("{} closed at the limit, {} cut off",
                                                                plural(s.connections_closed_total, "connection", "connections"),
                                                                bytes_text(s.bytes_dropped_total)));
      }));

  out.push_back(toxic_type(
      "blackhole", "accept connections and forward nothing, never close", {},
      [](const params&) { return std::make_shared<blackhole_toxic>(); },
      [](const toxic_stats& s) {
        return seen(s.bytes_dropped_total > 0, fmt::format("{} swallowed on {}", bytes_text(s.bytes_dropped_total), on_links(s)));
      }));

  faults::fault_type down;
  down.name = "down";
  down.summary = "refuse new connections and drop existing ones";
  down.family = "proxy";
  down.target = faults::target_kind::proxy;
  down.exclusive = true;
  down.create = [](const params&, const faults::fault_context& ctx) {
    return std::unique_ptr<faults::fault>(std::make_unique<down_fault>(ctx));
  };
  out.push_back(std::move(down));
  return out;
}

}  // namespace faultline::proxy
