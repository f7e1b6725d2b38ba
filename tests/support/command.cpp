#include "tests/support/command.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <stdexcept>

namespace faultline::test {

command_result run_command(const std::string& command_line) {
  command_result result;
  std::string wrapped = command_line + " 2>&1";
  FILE* pipe = ::popen(wrapped.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed for: " + command_line);
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string faultline_binary() { return FAULTLINE_BINARY; }
std::string source_dir() { return FAULTLINE_SOURCE_DIR; }

}  // namespace faultline::test
