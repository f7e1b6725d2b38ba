#include "faults/netem/network_fault.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace faultline::faults::network {
namespace {

const engine_kind* find_engine(const std::vector<engine_kind>& engines, const std::string& name) {
  auto it = std::find_if(engines.begin(), engines.end(), [&](const engine_kind& e) { return e.name == name; });
  return it == engines.end() ? nullptr : &*it;
}

std::string reason_of(const engine_kind& e) { return e.unavailable_reason ? e.unavailable_reason() : std::string(); }

}  // namespace

network_fault::network_fault(std::shared_ptr<const network_spec> spec, std::unique_ptr<network_engine> engine)
    : spec_(std::move(spec)), engine_(std::move(engine)) {}

boost::asio::awaitable<void> network_fault::inject() { co_await engine_->apply(); }

boost::asio::awaitable<void> network_fault::revert() { co_await engine_->remove(); }

evidence network_fault::collect_evidence() const {
  auto e = engine_->collect_evidence();
  e.details["engine"] = engine_->name();
  e.details["requested"] = spec_->describe();
  return e;
}

nlohmann::json network_fault::undo_record() const { return engine_->undo_record(); }

std::string network_fault::engine() const { return engine_->name(); }

const engine_kind& select_engine(const network_spec& spec, const std::vector<engine_kind>& engines) {
  const auto* netem = find_engine(engines, "netem");
  const auto* userspace = find_engine(engines, "userspace");
  const std::string no_userspace =
      "the userspace engine (engine: userspace) is not part of this build of faultline, so there is nothing to fall back to";

  switch (spec.engine) {
    case engine_choice::netem: {
      if (!netem) throw capability_error("network: the netem engine is not part of this build of faultline");
      if (auto why = reason_of(*netem); !why.empty()) throw capability_error(why);
      return *netem;
    }
    case engine_choice::userspace: {
      if (!userspace) throw capability_error("network: engine: userspace is not part of this build of faultline; use engine: netem "
                                             "on a kernel with sch_netem");
      if (auto why = reason_of(*userspace); !why.empty()) throw capability_error(why);
      return *userspace;
    }
    case engine_choice::auto_select: break;
  }
  std::string netem_why = netem ? reason_of(*netem) : "network: the netem engine is not part of this build of faultline";
  if (netem_why.empty()) return *netem;
  if (!userspace) throw capability_error(fmt::format("{} (engine: auto: {})", netem_why, no_userspace));
  if (auto why = reason_of(*userspace); !why.empty())
    throw capability_error(fmt::format("{}; and the userspace engine cannot run either: {}", netem_why, why));
  return *userspace;
}

fault_type network_fault_type(std::vector<engine_kind> engines) {
  fault_type t;
  t.name = "network";
  t.summary = "delay, jitter, loss, duplicate, corrupt, reorder or rate-limit a device's traffic (netem or userspace)";
  t.family = "network";
  t.target = target_kind::device;
  t.exclusive = true;  // one root qdisc per device
  t.capability = "CAP_NET_ADMIN";  // both engines change the kernel's traffic control or firewall
  t.params = network_params();
  t.validate = validate_network_params;
  auto shared = std::make_shared<const std::vector<engine_kind>>(std::move(engines));
  t.create = [shared](const params& p, const fault_context& ctx) -> std::unique_ptr<fault> {
    auto spec = std::make_shared<const network_spec>(parse_network_spec(p, ctx.target));
    const auto& kind = select_engine(*spec, *shared);
    auto engine = kind.create(spec, ctx);
    return std::make_unique<network_fault>(std::move(spec), std::move(engine));
  };
  t.undo = [shared](const nlohmann::json& record) {
    auto name = record.is_object() ? record.value("engine", std::string()) : std::string();
    const auto* kind = find_engine(*shared, name);
    if (!kind || !kind->undo)
      throw fault_error(fmt::format("network: cannot undo a '{}' engine record: that engine is not part of this build", name));
    kind->undo(record);
  };
  return t;
}

}  // namespace faultline::faults::network
