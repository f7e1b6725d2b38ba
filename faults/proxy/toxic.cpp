#include "faults/proxy/toxic.hpp"

#include "faults/proxy/toxic_descriptor.hpp"

namespace faultline::proxy {

namespace {
// Enough for a bulk transfer's reader and writer to hand buffers back and forth; at most 2 MiB
// per thread (256 KiB bulk buffers) stays held after the transfer.
constexpr std::size_t spare_buffers = 8;
thread_local std::vector<byte_buffer> spare;
}  // namespace

byte_buffer take_buffer(std::size_t size) {
  if (!spare.empty() && spare.back().capacity() >= size) {
    auto b = std::move(spare.back());
    spare.pop_back();
    b.resize(size);
    return b;
  }
  return byte_buffer(size);
}

void recycle_buffer(byte_buffer&& buffer) {
  if (buffer.capacity() < (16u << 10) || spare.size() >= spare_buffers) return;  // small ones are not worth keeping
  spare.push_back(std::move(buffer));
}

void release_spare_buffers() { std::vector<byte_buffer>().swap(spare); }

const char* to_string(direction d) { return d == direction::upstream ? "upstream" : "downstream"; }

std::optional<direction> parse_direction(std::string_view text) {
  if (text == "upstream") return direction::upstream;
  if (text == "downstream") return direction::downstream;
  return std::nullopt;
}

nlohmann::json toxic_stats::to_json() const {
  auto out = nlohmann::json::object();
  for_each([&](const char* name, std::uint64_t value) { out[name] = value; });
  return out;
}

void route_counters::count(std::string_view route, stage s) {
  std::lock_guard lock(mutex_);
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(routes_.size() < max_routes ? std::string(route) : std::string("(other)"), tally{}).first;
  auto& t = it->second;
  (s == stage::seen ? t.seen : s == stage::matched ? t.matched : t.affected) += 1;
}

bool route_counters::empty() const {
  std::lock_guard lock(mutex_);
  return routes_.empty();
}

nlohmann::json route_counters::to_json() const {
  std::lock_guard lock(mutex_);
  auto out = nlohmann::json::object();
  for (const auto& [route, t] : routes_) out[route] = {{"seen", t.seen}, {"matched", t.matched}, {"affected", t.affected}};
  return out;
}

toxic_stats toxic_counters::snapshot() const {
  toxic_stats s;
#define FAULTLINE_STAT_LOAD(name, help) s.name = name.load(std::memory_order_relaxed);
  FAULTLINE_TOXIC_STATS(FAULTLINE_STAT_LOAD)
#undef FAULTLINE_STAT_LOAD
  return s;
}

std::string_view toxic_config::type() const { return descriptor_->name; }
std::string_view toxic_config::protocol() const { return descriptor_->protocol; }
nlohmann::ordered_json toxic_config::attributes() const { return descriptor_->attributes(settings_); }

bool roll_toxicity(double toxicity, std::mt19937_64& random) {
  if (toxicity >= 1.0) return true;
  if (toxicity <= 0.0) return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(random) < toxicity;
}

void toxic::on_eof(chunk c, toxic_state*, stage_io& io) const {
  auto at = c.stamp;
  io.pass(std::move(c), at);
}

void toxic::on_start(toxic_state*, stage_io&) const {}
void toxic::on_stop(toxic_state*, stage_io&) const {}

}  // namespace faultline::proxy
