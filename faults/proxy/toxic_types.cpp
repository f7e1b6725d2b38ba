#include "faults/proxy/toxic_types.hpp"

#include "faults/proxy/proxy.hpp"
#include "faults/proxy/proxy_set.hpp"
#include "faults/proxy/toxic_registry.hpp"

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

// "query" -> "queries", "command" -> "commands"
std::string plural_of(const std::string& noun) { return noun.ends_with("y") ? noun.substr(0, noun.size() - 1) + "ies" : noun + "s"; }

// The parameters every toxic fault takes besides its own: byte-level toxics act on one direction
// and a share of its links (rolled by the link); message-level ones on a share of the matching
// messages (rolled by the session).
param_schema fault_params(const toxic_descriptor& d) {
  auto out = d.schema();
  if (d.protocol.empty()) {
    out.push_back({"stream", param_kind::choice, "direction: downstream (server -> client) or upstream (client -> server)",
                   std::string("downstream"), false, {}, {}, {"downstream", "upstream"}});
    out.push_back({"toxicity", param_kind::fraction, "share of connections affected (0..1 or %)", 1.0, false, 0.0, 1.0});
  } else {
    out.push_back({"probability", param_kind::fraction, fmt::format("share of matching {} acted on (0..1 or %)", plural_of(d.noun)), 1.0, false, 0.0, 1.0});
  }
  return out;
}

// "3 queries", "1 command"
std::string count_of(std::uint64_t n, const std::string& noun) { return fmt::format("{} {}", n, n == 1 ? noun : plural_of(noun)); }

// A toxic as an experiment fault: inject() adds it to the target proxy, revert() removes it, and
// the evidence says what its counters saw.
class toxic_fault final : public faults::fault {
public:
  toxic_fault(faults::fault_context ctx, installed_toxic spec) : ctx_(std::move(ctx)), spec_(std::move(spec)) {}

  asio::awaitable<void> inject() override {
    if (!ctx_.proxies) throw faults::fault_error(fmt::format("{}: no proxies run in this process", spec_.type()));
    try {
      auto added = ctx_.proxies->add_toxic(ctx_.target, spec_);
      spec_.name = added.name;
      spec_.counters = added.counters;
    } catch (const proxy_error& e) {
      throw faults::fault_error(fmt::format("{} on proxy '{}': {}", spec_.type(), ctx_.target, e.what()));
    }
    co_return;
  }

  asio::awaitable<void> revert() override {
    if (!ctx_.proxies || !spec_.counters) co_return;
    try {
      ctx_.proxies->remove_toxic(ctx_.target, spec_.name);
    } catch (const proxy_error& e) {
      // Already gone (the proxy was removed, or someone removed the toxic): nothing left to undo.
      if (e.what_kind() != proxy_error::kind::not_found && e.what_kind() != proxy_error::kind::toxic_not_found) throw;
    }
    co_return;
  }

  faults::evidence collect_evidence() const override {
    const auto& type = spec_.config->descriptor();
    if (!spec_.counters) return {false, fmt::format("{} was not injected", type.name), nlohmann::json::object()};
    const auto s = spec_.counters->snapshot();
    const auto effect = type.describe(s);
    faults::evidence e{effect.observed, effect.summary, s.to_json()};
    if (spec_.message_level()) {
      // Counted per message: the summary and the fields speak of queries or commands.
      e.summary = fmt::format("{}: {} seen, {} matched, {}", type.name, count_of(s.messages_total, type.noun), s.messages_matched_total,
                              effect.summary);
      e.details = {
          {"affected", s.messages_affected_total},
          {"connections_closed", s.connections_closed_total},
          {"connections_reset", s.connections_reset_total},
          {"delay_ns_total", s.delay_ns_total},
          {"matched", s.messages_matched_total},
          {"seen", s.messages_total},
      };
      if (s.messages_affected_total > 0 && s.delay_ns_total > 0) e.details["delay_ns_average"] = s.delay_ns_total / s.messages_affected_total;
      e.details["protocol"] = type.protocol;
      e.details["probability"] = spec_.toxicity;
    } else {
      e.details["stream"] = to_string(spec_.stream);
      e.details["toxicity"] = spec_.toxicity;
    }
    e.details["proxy"] = ctx_.target;
    e.details["toxic"] = spec_.name;
    e.details["type"] = type.name;
    e.details["attributes"] = nlohmann::json::parse(spec_.config->attributes().dump());
    return e;
  }

private:
  faults::fault_context ctx_;
  installed_toxic spec_;  // counters set once injected
};

faults::fault_type fault_type_of(const toxic_descriptor& d) {
  faults::fault_type t;
  t.name = d.name;
  t.summary = d.summary;
  t.family = d.protocol.empty() ? "proxy" : "protocol";
  t.target = faults::target_kind::proxy;
  t.protocol = d.protocol;
  t.params = fault_params(d);
  t.validate = [&d](const params& p) { d.create(p); };  // a bad combination or pattern is a param_error
  t.create = [&d](const params& p, const faults::fault_context& ctx) {
    installed_toxic spec;
    spec.name = ctx.step_name;  // unique within a run; empty falls back to <type>_<stream>
    if (d.protocol.empty()) {
      spec.stream = p.text("stream") == "upstream" ? direction::upstream : direction::downstream;
      spec.toxicity = p.number("toxicity");
    } else {
      spec.toxicity = p.number("probability");  // message toxics see both directions; stream only names them
    }
    try {
      spec.config = d.create(p);
    } catch (const param_error& e) {
      throw faults::fault_error(fmt::format("{}: {}", d.name, e.what()));
    }
    return std::unique_ptr<faults::fault>(std::make_unique<toxic_fault>(ctx, std::move(spec)));
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

}  // namespace

std::vector<faults::fault_type> toxic_fault_types(const toxic_registry& toxics) {
  std::vector<faults::fault_type> out;
  for (const auto& [name, d] : toxics.types())
    if (!d->api_only) out.push_back(fault_type_of(*d));

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
