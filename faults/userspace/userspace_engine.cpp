#include "faults/userspace/userspace_engine.hpp"

#include "faults/netem/distribution_table.hpp"
#include "faults/netem/route_socket.hpp"
#include "faults/userspace/netns.hpp"
#include "faults/userspace/nfqueue_socket.hpp"
#include "faults/userspace/userspace_log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <random>

namespace faultline::faults::userspace {
namespace {

using network::network_spec;

// The IP families the rules cover: IPv4 always, IPv6 when ip6tables is there.
std::vector<int> filterable_families() {
  std::vector<int> out{AF_INET};
  if (!find_program("ip6tables-restore").empty() && !find_program("ip6tables").empty()) out.push_back(AF_INET6);
  return out;
}

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace

userspace_engine::userspace_engine(std::shared_ptr<const network_spec> spec, std::string step, userspace_options options)
    : spec_(std::move(spec)), step_(std::move(step)), options_(options) {}

userspace_engine::~userspace_engine() {
  if (!applied_ || removed_) return;
  try {
    remove_now();
  } catch (const std::exception& e) {
    userspace_log()->error("{}: removing the fault on shutdown: {}", network::device_label(*spec_), e.what());
  }
}


bool userspace_engine::needs_packet_path() const {
  const auto& s = *spec_;
  return s.delay.count() > 0 || s.loss || s.loss_model || s.duplicate || s.corrupt || s.reorder;
}

void userspace_engine::prepare() const {
  if (plan_) return;
  network::route_socket sock(spec_->netns);
  network::checked_device(sock, *spec_);
  if (spec_->rate) {
    shaper_.emplace(spec_);
    shaper_record_ = shaper_->record();
  }
  firewall_plan plan;
  if (needs_packet_path()) {
    candidates_ = candidate_queues(spec_->netns);
    if (candidates_.empty()) throw fault_error("network: no free NFQUEUE queue number from 64023 up; remove unused NFQUEUE rules");
    plan = plan_firewall(*spec_, unique_chain_name(), step_, candidates_.front(),
                         spec_->duplicate ? std::optional<std::uint32_t>(copy_mark) : std::nullopt, filterable_families());
    if (plan.families.empty())
      throw fault_error(fmt::format("network: the scope names IPv6 addresses but ip6tables is not installed (apt install iptables)"));
    note_tables_before(plan);
  }
  plan_ = std::move(plan);
}

const firewall_plan& userspace_engine::plan() const {
  prepare();
  return *plan_;
}

// apply and remove run iptables and wait for the queue to drain (tens of milliseconds): on a thread
// of their own, so the run's event loop (load, probes) is not held up meanwhile.
namespace {
boost::asio::thread_pool& blocking_worker() {
  static boost::asio::thread_pool pool(1);
  return pool;
}
}  // namespace

boost::asio::awaitable<void> userspace_engine::apply() {
  co_await boost::asio::co_spawn(
      blocking_worker(), [this]() -> boost::asio::awaitable<void> {
        apply_now();
        co_return;
      },
      boost::asio::use_awaitable);
}

boost::asio::awaitable<void> userspace_engine::remove() {
  co_await boost::asio::co_spawn(
      blocking_worker(), [this]() -> boost::asio::awaitable<void> {
        remove_now();
        co_return;
      },
      boost::asio::use_awaitable);
}

void userspace_engine::apply_now() {
  if (applied_) throw fault_error("network: this fault is already applied");
  prepare();
  if (needs_packet_path()) {
    loop_settings settings;
    settings.netns = spec_->netns;
    settings.keep_order = spec_->keep_order;
    settings.whole_packet = spec_->corrupt || spec_->duplicate;
    settings.limit = spec_->limit;
    settings.copy_mark = copy_mark;
    settings.realtime_priority = options_.realtime_priority;
    impairment_model model(*spec_, network::load_distribution_table(spec_->distribution), std::random_device{}());
    loop_ = std::make_unique<packet_loop>(std::move(model), settings);
    const auto queue = loop_->start(candidates_);
    if (queue != plan_->queue) {
      auto replanned = plan_firewall(*spec_, plan_->chain, step_, queue,
                                     spec_->duplicate ? std::optional<std::uint32_t>(copy_mark) : std::nullopt, filterable_families());
      for (std::size_t i = 0; i < replanned.families.size(); ++i) {
        replanned.families[i].table_existed = plan_->families[i].table_existed;
        replanned.families[i].base_chains_before = plan_->families[i].base_chains_before;
      }
      plan_ = std::move(replanned);
    }
  }
  try {
    if (shaper_) shaper_->apply();
    if (loop_) install_firewall(*plan_);
  } catch (...) {
    try {
      if (shaper_) shaper_->remove();
    } catch (const std::exception& e) {
      userspace_log()->error("{}: {}", network::device_label(*spec_), e.what());
    }
    if (loop_) loop_->stop();
    throw;
  }
  applied_ = true;
  userspace_log()->info("{}: applied {} (userspace{})", network::device_label(*spec_), spec_->describe(),
                 loop_ ? fmt::format(", queue {}, chain {}", plan_->queue, plan_->chain) : "");
}

void userspace_engine::remove_now() {
  if (!applied_ || removed_) return;
  std::vector<std::string> failures;
  if (loop_) {
    try {
      remove_queue_rules(*plan_);
    } catch (const std::exception& e) {
      failures.push_back(e.what());
    }
    loop_->stop();  // every held packet is accepted now; then the queue is unbound
    // Only now: deleting a base chain makes the kernel drop whatever is still queued.
    remove_created_tables(*plan_);
  }
  if (shaper_) {
    try {
      shaper_->remove();
    } catch (const std::exception& e) {
      failures.push_back(e.what());
    }
  }
  removed_ = true;
  if (!failures.empty()) {
    std::string text;
    for (const auto& f : failures) text += (text.empty() ? "" : "; ") + f;
    throw fault_error(text);
  }
}

packet_stats userspace_engine::packet_statistics() const { return loop_ ? loop_->stats() : packet_stats{}; }

evidence userspace_engine::collect_evidence() const {
  evidence e;
  e.details["device"] = spec_->device;
  if (!spec_->netns.empty()) e.details["netns"] = spec_->netns;
  e.details["affects"] = fmt::format("packets arriving through {} into its namespace (mangle INPUT and FORWARD)", spec_->device);
  if (plan_ && loop_) {
    e.details["chain"] = plan_->chain;
    e.details["queue"] = plan_->queue;
    e.details["order"] = spec_->keep_order ? "kept" : "by due time (netem)";
    e.details["scheduling"] = loop_->scheduling();
  }
  std::vector<std::string> parts;
  if (loop_) {
    const auto stats = loop_->stats();
    e.details["packets"] = stats.to_json();
    const auto& c = stats.counters;
    e.observed = c.packets_seen_total > 0;
    parts.push_back(fmt::format("{} packets seen", c.packets_seen_total));
    if (spec_->delay.count() > 0) {
      const auto& h = stats.applied_delay;
      parts.push_back(h.empty() ? fmt::format("{} delayed", c.packets_delayed_total)
                                : fmt::format("{} delayed (applied p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms)", c.packets_delayed_total,
                                              ms(h.percentile(50)), ms(h.percentile(99)), ms(h.max())));
    }
    if (spec_->loss || spec_->loss_model) parts.push_back(fmt::format("{} dropped", c.packets_dropped_total));
    if (spec_->duplicate) parts.push_back(fmt::format("{} duplicated", c.packets_duplicated_total));
    if (spec_->corrupt) parts.push_back(fmt::format("{} corrupted", c.packets_corrupted_total));
    if (spec_->reorder) parts.push_back(fmt::format("{} reordered", c.packets_reordered_total));
    if (c.packets_over_limit_total) parts.push_back(fmt::format("{} over the limit", c.packets_over_limit_total));
  }
  if (shaper_) {
    auto rate = shaper_->evidence();
    e.details["rate"] = rate;
    if (rate.contains("stats")) {
      const auto packets = rate["stats"].value("packets", std::uint64_t{0});
      if (!loop_) e.observed = packets > 0;
      parts.push_back(fmt::format("{} packets through {} ({} dropped, {} over the rate)", packets, rate.value("kind", ""),
                                  rate["stats"].value("drops", std::uint64_t{0}), rate["stats"].value("overlimits", std::uint64_t{0})));
    }
  }
  std::string text;
  for (const auto& p : parts) text += (text.empty() ? "" : ", ") + p;
  e.summary = applied_ ? fmt::format("userspace on {}: {}", network::device_label(*spec_), text.empty() ? "no statistics" : text)
                       : fmt::format("userspace on {}: not applied", network::device_label(*spec_));
  return e;
}

nlohmann::json userspace_engine::undo_record() const {
  prepare();
  nlohmann::json j{{"engine", "userspace"}, {"device", spec_->device}, {"netns", spec_->netns}, {"step", step_}};
  if (needs_packet_path()) j["firewall"] = plan_->to_json();
  if (shaper_) j["rate"] = shaper_record_;
  return j;
}

std::string userspace_unavailable_reason() {
  static std::once_flag once;
  static std::string reason;
  std::call_once(once, [] {
    if (::geteuid() != 0) {
      reason = "network: engine: userspace changes firewall rules and binds an NFQUEUE queue, which needs root (CAP_NET_ADMIN and "
               "CAP_SYS_ADMIN); run faultline as root";
      return;
    }
    if (reason = firewall_unavailable_reason(); !reason.empty()) return;
    try {
      auto scratch = netns_handle::scratch();
      in_netns(scratch, [] {
        queue_config probe;
        probe.number = 1;
        nfqueue_socket queue(probe);
      });
    } catch (const std::exception& e) {
      reason = fmt::format("network: this kernel has no NFQUEUE support (binding a queue in a scratch namespace failed: {}); engine: "
                           "userspace needs CONFIG_NETFILTER_NETLINK_QUEUE",
                           e.what());
    }
  });
  return reason;
}

void undo_userspace(const nlohmann::json& record) {
  // A namespace deleted since the crash took the rules, the chain and the device with it.
  const auto netns = record.is_object() ? record.value("netns", std::string()) : std::string();
  if (!netns.empty() && !std::filesystem::exists("/run/netns/" + netns)) {
    userspace_log()->info("network namespace {} is gone, and with it everything the fault changed; nothing to undo", netns);
    return;
  }
  std::vector<std::string> failures;
  try {
    if (record.contains("firewall") && !record["firewall"].is_null()) remove_firewall(firewall_plan::from_json(record["firewall"]));
  } catch (const std::exception& e) {
    failures.push_back(e.what());
  }
  try {
    if (record.contains("rate") && !record["rate"].is_null()) rate_shaper::undo(record["rate"]);
  } catch (const std::exception& e) {
    failures.push_back(e.what());
  }
  if (!failures.empty()) {
    std::string text;
    for (const auto& f : failures) text += (text.empty() ? "" : "; ") + f;
    throw fault_error(text);
  }
}

network::engine_kind userspace_engine_kind() {
  network::engine_kind k;
  k.name = "userspace";
  k.unavailable_reason = userspace_unavailable_reason;
  k.create = [](std::shared_ptr<const network_spec> spec, const fault_context& ctx) -> std::unique_ptr<network::network_engine> {
    return std::make_unique<userspace_engine>(std::move(spec), ctx.step_name);
  };
  k.undo = undo_userspace;
  return k;
}

}  // namespace faultline::faults::userspace
