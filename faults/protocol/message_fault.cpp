#include "faults/protocol/message_fault.hpp"

#include "faults/protocol/message_toxic.hpp"
#include "faults/proxy/proxy_set.hpp"

#include <fmt/format.h>

namespace faultline::protocol {
namespace {

namespace asio = boost::asio;

class message_fault final : public faults::fault {
public:
  message_fault(faults::fault_context ctx, proxy::toxic_spec spec, std::shared_ptr<const message_fault_spec> type)
      : ctx_(std::move(ctx)), spec_(std::move(spec)), type_(std::move(type)) {}

  asio::awaitable<void> inject() override {
    if (!ctx_.proxies) throw faults::fault_error(fmt::format("{}: no proxies run in this process", type_->name));
    try {
      auto info = ctx_.proxies->add_toxic(ctx_.target, spec_);
      name_ = info.name;
      counters_ = info.counters;
    } catch (const proxy::proxy_error& e) {
      throw faults::fault_error(fmt::format("{} on proxy '{}': {}", type_->name, ctx_.target, e.what()));
    }
    co_return;
  }

  asio::awaitable<void> revert() override {
    if (!ctx_.proxies || name_.empty()) co_return;
    try {
      ctx_.proxies->remove_toxic(ctx_.target, name_);
    } catch (const proxy::proxy_error& e) {
      // Already gone (the proxy was removed, or someone removed the toxic): nothing left to undo.
      if (e.what_kind() != proxy::proxy_error::kind::not_found && e.what_kind() != proxy::proxy_error::kind::toxic_not_found) throw;
    }
    co_return;
  }

  faults::evidence collect_evidence() const override {
    faults::evidence e;
    if (!counters_) {
      e.summary = fmt::format("{} was not injected", type_->name);
      return e;
    }
    const auto s = counters_->snapshot();
    e.observed = type_->observed ? type_->observed(s) : s.messages_affected_total > 0;
    e.summary = fmt::format("{}: {} seen, {} matched, {}", type_->name, count_of(s.messages_total, type_->noun), s.messages_matched_total,
                            type_->describe(s));
    e.details = {
        {"affected", s.messages_affected_total},
        {"connections_closed", s.connections_closed_total},
        {"connections_reset", s.connections_reset_total},
        {"delay_ns_total", s.delay_ns_total},
        {"matched", s.messages_matched_total},
        {"seen", s.messages_total},
    };
    if (s.messages_affected_total > 0 && s.delay_ns_total > 0) e.details["delay_ns_average"] = s.delay_ns_total / s.messages_affected_total;
    e.details["proxy"] = ctx_.target;
    e.details["toxic"] = name_;
    e.details["type"] = type_->name;
    e.details["protocol"] = type_->protocol;
    e.details["probability"] = spec_.toxicity;
    e.details["attributes"] = nlohmann::json::parse(spec_.config->attributes().dump());
    return e;
  }

private:
  faults::fault_context ctx_;
  proxy::toxic_spec spec_;
  std::shared_ptr<const message_fault_spec> type_;
  std::string name_;
  std::shared_ptr<const proxy::toxic_counters> counters_;
};

}  // namespace

std::string count_of(std::uint64_t n, const std::string& noun) {
  if (n == 1) return fmt::format("1 {}", noun);
  if (noun.ends_with("y")) return fmt::format("{} {}ies", n, noun.substr(0, noun.size() - 1));
  return fmt::format("{} {}s", n, noun);
}

faults::fault_type message_fault_type(message_fault_spec type_spec) {
  auto shared = std::make_shared<const message_fault_spec>(std::move(type_spec));
  faults::fault_type t;
  t.name = shared->name;
  t.summary = shared->summary;
  t.family = "protocol";
  t.target = faults::target_kind::proxy;
  t.protocol = shared->protocol;
  t.params = shared->schema;
  t.params.push_back({"probability", param_kind::fraction, fmt::format("share of matching {}s acted on (0..1 or %)", shared->noun), 1.0,
                      false, 0.0, 1.0});
  t.validate = [shared](const params& p) {
    try {
      shared->make(p);
    } catch (const setting_error& e) {
      throw param_error(e.setting(), e.what());
    }
  };
  t.create = [shared](const params& p, const faults::fault_context& ctx) {
    proxy::toxic_spec spec;
    spec.name = ctx.step_name;
    spec.stream = proxy::direction::downstream;  // message toxics see both directions; the field only names them
    spec.toxicity = p.number("probability");
    try {
      spec.config = shared->make(p);
    } catch (const setting_error& e) {
      throw faults::fault_error(fmt::format("{}: {}", shared->name, e.what()));
    }
    return std::unique_ptr<faults::fault>(std::make_unique<message_fault>(ctx, std::move(spec), shared));
  };
  return t;
}

}  // namespace faultline::protocol
