#pragma once
// What `faultline --version` prints: the version, the commit it was built from, and the compiler
// and library versions it was built against, so a bug report says exactly which build it is.

#include <string>
#include <string_view>

namespace faultline::cli {

std::string version_text(std::string_view commit);

}  // namespace faultline::cli
