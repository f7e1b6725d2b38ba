#include "faults/proxy/proxy_set.hpp"

#include "faults/proxy/io_pool.hpp"
#include "faults/proxy/log.hpp"
#include "faults/proxy/proxy.hpp"

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace faultline::proxy {

nlohmann::json proxy_stats::to_json() const {
  auto dir = [](const direction_stats& d) {
    return nlohmann::json{{"bytes_received_total", d.bytes_received_total},
                          {"bytes_sent_total", d.bytes_sent_total},
                          {"bytes_spliced_total", d.bytes_spliced_total}};
  };
  return {
      {"connections_accepted_total", connections_accepted_total},
      {"connections_active", connections_active},
      {"connections_closed_total", connections_closed_total},
      {"downstream", dir(downstream)},
      {"upstream", dir(upstream)},
      {"upstream_connect_failures_total", upstream_connect_failures_total},
  };
}

namespace {

std::shared_ptr<const protocol_registry> builtin_protocols() {
  auto r = std::make_shared<protocol_registry>();
  register_builtin_protocols(*r);
  return r;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

proxy_set::proxy_set() : proxy_set(options{}) {}

proxy_set::proxy_set(options o) : options_(std::move(o)) {
  if (!options_.time) options_.time = steady_clock();
  if (!options_.protocols) options_.protocols = builtin_protocols();
  pool_ = std::make_unique<io_pool>(options_.threads);
}

proxy_set::~proxy_set() { stop(); }

std::shared_ptr<proxy> proxy_set::get(std::string_view name) const {
  auto it = proxies_.find(name);
  if (it == proxies_.end()) throw proxy_error(proxy_error::kind::not_found, "proxy not found");
  return it->second;
}

proxy_info proxy_set::add(const proxy_config& config, const std::vector<installed_toxic>& toxics) {
  if (config.name.empty()) throw proxy_error(proxy_error::kind::invalid, "missing required field: name");
  if (config.upstream.empty()) throw proxy_error(proxy_error::kind::invalid, "missing required field: upstream");
  auto p = options_.protocols->find(config.protocol);
  if (!p)
    throw proxy_error(proxy_error::kind::invalid, fmt::format("proxy '{}' has protocol '{}', which this build does not know (known: {})",
                                                              config.name, config.protocol, join(options_.protocols->names())));
  std::lock_guard lock(mutex_);
  if (stopped_) throw proxy_error(proxy_error::kind::invalid, "the proxy set is stopped");
  if (proxies_.contains(config.name)) throw proxy_error(proxy_error::kind::already_exists, "proxy already exists");
  proxy::runtime rt{pool_.get(), options_.time, options_.buffer_limit, options_.allow_non_loopback, options_.zero_copy};
  auto created = std::make_shared<proxy>(config, std::move(p), rt);
  // Toxics first (checked as a whole), so the first connection already meets them.
  for (const auto& t : toxics) created->add_toxic(t, next_toxic_id_++);
  if (config.enabled) created->enable();
  proxies_.emplace(config.name, created);
  return created->info();
}

proxy_info proxy_set::update(const proxy_config& config) {
  std::lock_guard lock(mutex_);
  auto p = get(config.name);
  auto info = p->info();
  if (config.protocol != info.protocol)
    throw proxy_error(proxy_error::kind::invalid,
                      fmt::format("the protocol of proxy '{}' cannot change (it is {}); delete and create it again", config.name, info.protocol));
  if (config.listen != info.listen || config.upstream != info.upstream) {
    const bool was_enabled = info.enabled;
    p->disable();
    p->retarget(config.listen, config.upstream);
    if (was_enabled && config.enabled) {
      p->enable();  // Toxiproxy restarts it on the new addresses
      return p->info();
    }
  }
  if (config.enabled) p->enable();
  else p->disable();
  return p->info();
}

proxy_info proxy_set::set_enabled(std::string_view name, bool enabled) {
  std::lock_guard lock(mutex_);
  auto p = get(name);
  if (enabled) p->enable();
  else p->disable();
  return p->info();
}

void proxy_set::remove(std::string_view name) {
  std::shared_ptr<proxy> p;
  {
    std::lock_guard lock(mutex_);
    p = get(name);
    proxies_.erase(proxies_.find(name));
  }
  p->disable();
}

std::optional<proxy_info> proxy_set::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = proxies_.find(name);
  if (it == proxies_.end()) return std::nullopt;
  return it->second->info();
}

std::vector<proxy_info> proxy_set::list() const {
  std::lock_guard lock(mutex_);
  std::vector<proxy_info> out;
  for (const auto& [name, p] : proxies_) out.push_back(p->info());
  return out;
}

installed_toxic proxy_set::add_toxic(std::string_view proxy, installed_toxic spec) {
  std::lock_guard lock(mutex_);
  return get(proxy)->add_toxic(std::move(spec), next_toxic_id_++);
}

installed_toxic proxy_set::update_toxic(std::string_view proxy, std::string_view toxic, std::optional<double> toxicity,
                                   std::shared_ptr<const toxic_config> config) {
  std::lock_guard lock(mutex_);
  return get(proxy)->update_toxic(toxic, toxicity, std::move(config));
}

void proxy_set::remove_toxic(std::string_view proxy, std::string_view toxic) {
  std::lock_guard lock(mutex_);
  get(proxy)->remove_toxic(toxic);
}

std::vector<installed_toxic> proxy_set::toxics(std::string_view proxy) const {
  std::lock_guard lock(mutex_);
  return get(proxy)->toxics();
}

void proxy_set::reset() {
  std::lock_guard lock(mutex_);
  for (auto& [name, p] : proxies_) {
    p->enable();
    p->remove_all_toxics();
  }
}

proxy_stats proxy_set::stats(std::string_view proxy) const {
  std::lock_guard lock(mutex_);
  return get(proxy)->stats();
}

std::vector<std::string> proxy_set::protocols() const { return options_.protocols->names(); }

void proxy_set::stop() {
  std::map<std::string, std::shared_ptr<proxy>, std::less<>> closing;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    closing.swap(proxies_);
  }
  for (auto& [name, p] : closing) p->disable();
  // Give the connections a moment to close with a FIN rather than vanish with the threads.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  auto open = [&] {
    for (auto& [name, p] : closing)
      if (p->stats().connections_active > 0) return true;
    return false;
  };
  while (open() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  pool_->stop();
}

}  // namespace faultline::proxy
