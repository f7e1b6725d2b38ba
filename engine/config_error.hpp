#pragma once
// The one error type for bad configuration: every problem found in an input, each with its
// position and YAML path. The CLI prints them all and exits 2; nothing has been touched.

#include "engine/source.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace faultline::engine {

struct diagnostic {
  source_mark where;
  std::string message;
  // "file:line:col: path: message"
  std::string to_string() const;
};

class config_error : public std::runtime_error {
public:
  explicit config_error(std::vector<diagnostic> problems);
  const std::vector<diagnostic>& problems() const noexcept { return problems_; }

private:
  std::vector<diagnostic> problems_;
};

}  // namespace faultline::engine
