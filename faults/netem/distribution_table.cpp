#include "faults/netem/distribution_table.hpp"

#include "faults/fault.hpp"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <sstream>

namespace faultline::faults::network {

std::vector<std::string> distribution_search_paths() {
  return {"/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/aarch64-linux-gnu/tc", "/usr/lib/tc", "/usr/lib64/tc",
          "/usr/local/lib/tc", "/usr/share/tc"};
}

std::vector<std::int16_t> parse_distribution_table(const std::string& text, const std::string& origin) {
  std::vector<std::int16_t> out;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      long value = 0;
      std::size_t used = 0;
      try {
        value = std::stol(word, &used, 0);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != word.size() || value < std::numeric_limits<std::int16_t>::min() || value > std::numeric_limits<std::int16_t>::max())
        throw fault_error(fmt::format("network: {}:{}: '{}' is not a 16-bit table value", origin, number, word));
      out.push_back(static_cast<std::int16_t>(value));
    }
  }
  if (out.empty() || out.size() > 65536)
    throw fault_error(fmt::format("network: {} holds {} values; a distribution table holds 1 to 65536", origin, out.size()));
  return out;
}

std::vector<std::int16_t> load_distribution_table(delay_distribution d) {
  if (d == delay_distribution::uniform) return {};
  const std::string name = std::string(to_string(d)) + ".dist";
  for (const auto& dir : distribution_search_paths()) {
    auto path = dir + "/" + name;
    std::ifstream in(path);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    return parse_distribution_table(text.str(), path);
  }
  throw capability_error(fmt::format("network: distribution: {} needs iproute2's table {} (looked in {}/...); install iproute2 "
                                     "(apt install iproute2, dnf install iproute-tc) or use distribution: uniform",
                                     to_string(d), name, distribution_search_paths().front()));
}

}  // namespace faultline::faults::network
