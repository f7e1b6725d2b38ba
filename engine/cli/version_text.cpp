#include "engine/cli/version_text.hpp"

#include "faultline_version.hpp"

#include <fmt/format.h>

namespace faultline::cli {

std::string version_text(std::string_view commit) {
  std::string out = fmt::format("faultline {}\ncommit {}\nbuilt with {} against:\n", version, commit, compiler);
  for (const auto& lib : libraries) out += fmt::format("  {:<20} {}\n", lib.name, lib.version);
  out.pop_back();  // CLI11 ends the version text with its own newline
  return out;
}

}  // namespace faultline::cli
