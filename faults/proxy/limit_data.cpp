#include "faults/proxy/limit_data.hpp"

#include <algorithm>

namespace faultline::proxy {
namespace {

struct count final : toxic_state {
  std::uint64_t transmitted = 0;
};

}  // namespace

nlohmann::ordered_json limit_data_toxic::attributes() const { return {{"bytes", bytes_}}; }

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
