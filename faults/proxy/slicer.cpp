#include "faults/proxy/slicer.hpp"

#include "faults/proxy/toxic_descriptor.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace faultline::proxy {
namespace {

struct schedule final : toxic_state {
  time_point next{};  // the next piece may leave at this time
};

}  // namespace

const toxic_descriptor& slicer_toxic::type_descriptor() {
  static const toxic_descriptor d{
      .name = "slicer",
      .summary = "cut data into small pieces with a delay between them",
      .params = {
          size_param("average_size", "average piece size", 1, 1),
          size_param("size_variation", "piece size variation; smaller than average_size", 0),
          duration_param("delay", "delay between pieces", std::chrono::nanoseconds(0), api_unit::microseconds),
      },
      .validate = [](const params& p, const param_shown& show) {
        if (p.integer("size_variation") >= p.integer("average_size"))
          throw param_error("size_variation", fmt::format("{} must be smaller than {}", show("size_variation"), show("average_size")));
      },
      .make = made_of<slicer_toxic>(),
      .describe = [](const toxic_stats& s) {
        return toxic_effect{s.chunks_out_total > s.chunks_in_total,
                            fmt::format("{} cut into {}", plural(s.chunks_in_total, "chunk", "chunks"), plural(s.chunks_out_total, "piece", "pieces"))};
      },
  };
  return d;
}

slicer_toxic::slicer_toxic(const params& p)
    : toxic(type_descriptor(), p),
      average_size_(static_cast<std::size_t>(p.integer("average_size"))),
      size_variation_(static_cast<std::size_t>(p.integer("size_variation"))),
      delay_(p.duration("delay")) {}

slicer_toxic::slicer_toxic(std::size_t average_size, std::size_t size_variation, duration delay)
    : slicer_toxic(settings_of({{"average_size", static_cast<std::int64_t>(average_size)},
                                {"size_variation", static_cast<std::int64_t>(size_variation)},
                                {"delay", delay}})) {}

std::unique_ptr<toxic_state> slicer_toxic::new_state() const { return std::make_unique<schedule>(); }

std::vector<std::size_t> slicer_toxic::cut(std::size_t size, std::mt19937_64& random) const {
  std::vector<std::size_t> out{0};
  if (size > 0) cut(0, size, random, out);
  return out;
}

// Halves the range, moving the middle by up to +/- size_variation, until a piece is within the
// variation of the average size.
void slicer_toxic::cut(std::size_t start, std::size_t end, std::mt19937_64& random, std::vector<std::size_t>& out) const {
  const auto length = end - start;
  if (length <= average_size_ + size_variation_) {
    out.push_back(end);
    return;
  }
  auto offset = static_cast<std::ptrdiff_t>(length / 2);
  if (size_variation_ > 0) {
    auto v = static_cast<std::ptrdiff_t>(size_variation_);
    offset += std::uniform_int_distribution<std::ptrdiff_t>(-v, v - 1)(random);
  }
  offset = std::clamp<std::ptrdiff_t>(offset, 1, static_cast<std::ptrdiff_t>(length) - 1);
  const auto mid = start + static_cast<std::size_t>(offset);
  cut(start, mid, random, out);
  cut(mid, end, random, out);
}

void slicer_toxic::on_data(chunk c, toxic_state* state, stage_io& io) const {
  auto& s = static_cast<schedule&>(*state);
  auto t = std::max(s.next, c.stamp);
  const auto bounds = cut(c.size(), io.random());
  for (std::size_t i = 1; i < bounds.size(); ++i) {
    chunk piece{chunk::kind::data, {c.bytes.begin() + bounds[i - 1], c.bytes.begin() + bounds[i]}, c.stamp};
    io.pass(std::move(piece), t);
    t += delay_;
  }
  s.next = t;
}

}  // namespace faultline::proxy
