#pragma once
// A diff's row by its metric name (a run diff's or a set diff's), failing the test case when the
// diff has no such row.

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

namespace faultline::test {

template <typename Diff>
const auto& find_change(const Diff& diff, const std::string& metric) {
  for (const auto& c : diff.changes)
    if (c.metric == metric) return c;
  FAIL("no change for " << metric);
  throw std::logic_error("unreachable");
}

}  // namespace faultline::test
