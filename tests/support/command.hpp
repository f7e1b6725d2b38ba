#pragma once
// Runs a shell command for tests and captures its exit code and output.

#include <string>

namespace faultline::test {

struct command_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

command_result run_command(const std::string& command_line);

// The faultline binary built with the tests, and the source tree.
std::string faultline_binary();
std::string source_dir();

}  // namespace faultline::test
