#pragma once
// slicer: cuts data into pieces of about `average_size` +/- `size_variation` bytes and sends
// them `delay` apart, in order (Toxiproxy's halving algorithm, so pieces vary evenly).

#include "faults/proxy/toxic.hpp"

#include <cstddef>
#include <vector>

namespace faultline::proxy {

class slicer_toxic final : public toxic {
public:
  static const toxic_descriptor& type_descriptor();
  // Needs 1 <= average_size and size_variation < average_size (the descriptor checks).
  explicit slicer_toxic(const params& p);
  slicer_toxic(std::size_t average_size, std::size_t size_variation, duration delay);
  void on_data(chunk c, toxic_state* state, stage_io& io) const override;
  std::unique_ptr<toxic_state> new_state() const override;

  // Piece boundaries of [0, size): {0, b1, b2, ..., size}.
  std::vector<std::size_t> cut(std::size_t size, std::mt19937_64& random) const;

private:
  void cut(std::size_t start, std::size_t end, std::mt19937_64& random, std::vector<std::size_t>& out) const;

  std::size_t average_size_;
  std::size_t size_variation_;
  duration delay_;
};

}  // namespace faultline::proxy
