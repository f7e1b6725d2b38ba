#include "reports/output.hpp"

#include "reports/format.hpp"
#include "reports/html.hpp"
#include "reports/junit.hpp"
#include "reports/markdown.hpp"
#include "reports/suite.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>

namespace faultline::reports {

void write_text_file(const std::filesystem::path& path, std::string_view text) {
  if (path == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) throw report_error(fmt::format("{}: cannot create its directory: {}", path.string(), ec.message()));
  }
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw report_error(fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno)));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      throw report_error(fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno)));
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw report_error(fmt::format("{}: cannot write: {}", path.string(), ec.message()));
  }
}

void write_reports(const journal& run, const report_outputs& outputs) {
  if (!outputs.html.empty()) write_text_file(outputs.html, render_html(run));
  if (!outputs.junit.empty()) write_text_file(outputs.junit, render_junit(run));
  if (!outputs.markdown.empty()) write_text_file(outputs.markdown, render_markdown(run));
}

std::vector<std::string> suite_page_names(std::span<const journal> runs) {
  std::map<std::string, int> seen;
  std::vector<std::string> names;
  for (const auto& r : runs) {
    auto base = slug(r.experiment.name);
    if (base == "index") base = "index-experiment";  // the suite's own page
    int n = ++seen[base];
    names.push_back(n == 1 ? base + ".html" : fmt::format("{}-{}.html", base, n));
  }
  return names;
}

std::vector<std::filesystem::path> write_suite_reports(std::span<const journal> runs, const suite_outputs& outputs) {
  std::vector<std::filesystem::path> written;
  if (!outputs.html_dir.empty()) {
    auto pages = suite_page_names(runs);
    suite_summary suite;
    suite.name = outputs.name.empty() ? std::string("suite") : outputs.name;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      auto page = outputs.html_dir / pages[i];
      write_text_file(page, render_html(runs[i]));
      written.push_back(page);
      std::string journal_href;
      if (i < outputs.journals.size() && !outputs.journals[i].empty()) {
        auto base = std::filesystem::absolute(outputs.html_dir);
        journal_href = std::filesystem::absolute(outputs.journals[i]).lexically_relative(base).generic_string();
      }
      suite.runs.push_back(suite_entry_of(runs[i], pages[i], journal_href));
    }
    auto index = outputs.html_dir / "index.html";
    write_text_file(index, render_suite_html(suite));
    written.push_back(index);
  }
  if (!outputs.junit.empty()) {
    write_text_file(outputs.junit, render_junit(runs));
    written.push_back(outputs.junit);
  }
  if (!outputs.markdown.empty()) {
    auto text = render_suite_markdown(summarize_suite(outputs.name.empty() ? "suite" : outputs.name, runs));
    for (const auto& r : runs) text += render_markdown(r) + "\n";
    write_text_file(outputs.markdown, text);
    written.push_back(outputs.markdown);
  }
  return written;
}

}  // namespace faultline::reports
