// Every complete experiment in docs/ (a ```yaml block starting with `version: 1`) validates with
// the faultline binary, so the documentation cannot drift from the loader.

#include "tests/support/command.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

struct example {
  std::string where;  // "docs/faults.md:42"
  std::string yaml;
};

std::vector<example> experiments_in(const fs::path& markdown, const std::string& shown_as) {
  std::vector<example> out;
  std::ifstream in(markdown);
  std::string line;
  int number = 0;
  bool in_yaml = false;
  example current;
  while (std::getline(in, line)) {
    ++number;
    if (!in_yaml && line.rfind("```yaml", 0) == 0) {
      in_yaml = true;
      current = {shown_as + ":" + std::to_string(number + 1), ""};
    } else if (in_yaml && line.rfind("```", 0) == 0) {
      in_yaml = false;
      if (current.yaml.rfind("version: 1", 0) == 0) out.push_back(current);
    } else if (in_yaml) {
      current.yaml += line + "\n";
    }
  }
  return out;
}

}  // namespace

TEST_CASE("docs_examples_validate: every complete experiment in docs/ validates", "[engine]") {
  const fs::path docs = fs::path(faultline::test::source_dir()) / "docs";
  const auto scratch = fs::temp_directory_path() / ("faultline-docs-examples-" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(docs)) {
    if (entry.path().extension() != ".md") continue;
    for (const auto& x : experiments_in(entry.path(), "docs/" + entry.path().filename().string())) {
      const auto file = scratch / "example.yaml";
      std::ofstream(file) << x.yaml;
      const auto r = faultline::test::run_command(faultline::test::faultline_binary() + " validate " + file.string());
      INFO(x.where << "\n" << x.yaml << "\n" << r.output);
      CHECK(r.exit_code == 0);
      ++checked;
    }
  }
  fs::remove_all(scratch);
  CHECK(checked >= 8);  // the examples there today; a parser that finds none must fail
}
