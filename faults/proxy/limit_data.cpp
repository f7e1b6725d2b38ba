#include "faults/proxy/limit_data.hpp"

#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace faultline::proxy {
namespace {

struct count final : toxic_state {
  std::uint64_t transmitted = 0;
};

}  // namespace

const toxic_descriptor& limit_data_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "limit_data",
      .summary = "close the connection after a number of bytes",
      .params = {size_param("bytes", "bytes passed before the close", std::nullopt)},
      .make = made_of<limit_data_toxic>(),
      .describe = [](const toxic_stats& s) {
        return toxic_effect{s.connections_closed_total > 0, fmt::format("{} closed at the limit, {} cut off",
                                                                        plural(s.connections_closed_total, "connection", "connections"),
                                                                        bytes_text(s.bytes_dropped_total))};
      },
  };
  return d;
}

limit_data_toxic::limit_data_toxic(const params& p) : toxic(type_descriptor(), p), bytes_(static_cast<std::uint64_t>(p.integer("bytes"))) {}

limit_data_toxic::limit_data_toxic(std::uint64_t bytes) : limit_data_toxic(settings_of({{"bytes", static_cast<std::int64_t>(bytes)}})) {}

std::unique_ptr<toxic_state> limit_data_toxic::new_state() const { return std::make_unique<count>(); }

void limit_data_toxic::on_data(chunk c, toxic_state* state, stage_io& io) const {
  auto& s = static_cast<count&>(*state);
  const auto remaining = bytes_ > s.transmitted ? bytes_ - s.transmitted : 0;
  if (c.size() > remaining) {
    chunk tail{chunk::kind::data, {c.bytes.begin() + static_cast<std::ptrdiff_t>(remaining), c.bytes.end()}, c.stamp};
    io.drop(tail);
    c.bytes.resize(remaining);
  }
  const auto at = c.stamp;
  if (c.size() > 0) {
    s.transmitted += c.size();
    io.pass(std::move(c), at);
  }
  if (s.transmitted >= bytes_) io.close_at(at);
}

}  // namespace faultline::proxy
