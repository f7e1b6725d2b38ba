#pragma once
// Where something was written: file, 1-based line and column, and the YAML path. Errors in the
// experiment format, and runtime errors about a step, point here.

#include <string>

namespace faultline::engine {

struct source_mark {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
  std::string path;  // "timeline.steps[1].latency"

  // "file:line:col" (or just "file" when the position is unknown).
  std::string position() const;
};

}  // namespace faultline::engine
