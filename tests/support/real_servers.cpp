#include "tests/support/real_servers.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

#ifndef FAULTLINE_SOURCE_DIR
#error "FAULTLINE_SOURCE_DIR must name the source tree (tests/CMakeLists.txt sets it)"
#endif

namespace faultline::test {
namespace {

std::string script_path(const std::string& script) { return std::string(FAULTLINE_SOURCE_DIR) + "/scripts/" + script; }

// Runs a command, returns its standard output; throws when it fails.
std::string run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string out;
  std::array<char, 512> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error(command + " failed (status " + std::to_string(status) + "); its error is above");
  return out;
}

std::string value_of(const std::string& output, const std::string& key) {
  const auto at = output.find(key + "=");
  if (at == std::string::npos) throw std::runtime_error("server script printed no " + key + "=: " + output);
  const auto begin = at + key.size() + 1;
  return output.substr(begin, output.find('\n', begin) - begin);
}

}  // namespace

script_server::script_server(std::string script, const std::string& options) : script_(std::move(script)) {
  const auto out = run(script_path(script_) + " start --watch " + std::to_string(::getpid()) + (options.empty() ? "" : " " + options));
  dir_ = value_of(out, "dir");
  port_ = static_cast<std::uint16_t>(std::stoi(value_of(out, "port")));
  pid_ = std::stoi(value_of(out, "pid"));
}

script_server::~script_server() { stop(); }

void script_server::stop() {
  if (dir_.empty()) return;
  const auto command = script_path(script_) + " stop '" + dir_ + "'";
  dir_.clear();
  if (std::system(command.c_str()) != 0) std::fprintf(stderr, "warning: %s failed\n", command.c_str());
}

}  // namespace faultline::test
