#include "faults/proxy/bandwidth.hpp"

#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace faultline::proxy {
namespace {

struct schedule final : toxic_state {
  time_point next_free{};  // when the link is free to send again
};

}  // namespace

const toxic_descriptor& bandwidth_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "bandwidth",
      .summary = "limit throughput (0 passes nothing)",
      .params = {bandwidth_param("rate", "bytes per second (KB = 1000 bytes)", std::nullopt)},
      .make = made_of<bandwidth_toxic>(),
      .describe = [](const toxic_stats& s) {
        return toxic_effect{s.bytes_delayed_total > 0, fmt::format("{} of {} held back by the rate limit on {}", bytes_text(s.bytes_delayed_total),
                                                                   bytes_text(s.bytes_in_total), links_text(s))};
      },
  };
  return d;
}

bandwidth_toxic::bandwidth_toxic(const params& p) : toxic(type_descriptor(), p), rate_(p.number("rate")) {}

bandwidth_toxic::bandwidth_toxic(double bytes_per_second) : bandwidth_toxic(settings_of({{"rate", bytes_per_second}})) {}

std::unique_ptr<toxic_state> bandwidth_toxic::new_state() const { return std::make_unique<schedule>(); }

void bandwidth_toxic::on_data(chunk c, toxic_state* state, stage_io& io) const {
  if (rate_ <= 0) {
    io.pass(std::move(c), time_point::max());
    return;
  }
  auto& s = static_cast<schedule&>(*state);
  auto t = std::max(s.next_free, c.stamp);  // idle time is not saved up for later bursts
  auto transmit = [&](std::size_t bytes) {
    return std::chrono::duration_cast<duration>(std::chrono::duration<double>(static_cast<double>(bytes) / rate_));
  };
  const auto piece = std::max<std::size_t>(1, static_cast<std::size_t>(rate_ / 10));  // 100 ms worth
  if (c.size() <= piece) {
    t += transmit(c.size());
    io.pass(std::move(c), t);
  } else {
    for (std::size_t offset = 0; offset < c.size(); offset += piece) {
      auto n = std::min(piece, c.size() - offset);
      chunk part{chunk::kind::data, {c.bytes.begin() + offset, c.bytes.begin() + offset + n}, c.stamp};
      t += transmit(n);
      io.pass(std::move(part), t);
    }
  }
  s.next_free = t;
}

}  // namespace faultline::proxy
