// libFuzzer target for the Prometheus text parser of the metric probe (probes/prometheus_text.cpp):
// a series selector (as written in an experiment's `series:`) and an exposition (as a /metrics
// page answers). Input: the first line is the selector, the rest the exposition. Checks, besides
// "no crash, leak or sanitizer report": a bad selector is std::invalid_argument; a value is found
// exactly when something matched; a line written from the parsed selector is found with its value.
// Build and run: scripts/fuzz.sh --target prometheus (docs/testing.md).

#include "probes/prometheus_text.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fp = faultline::probes;

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "prometheus_fuzz: %s\n", what);
  std::abort();
}

// to_string() writes label values as they are; those with quotes, backslashes or newlines would
// need escapes to be read back.
bool writable(const fp::series_selector& s) {
  for (const auto& [k, v] : s.labels)
    if (v.find_first_of("\"\\\n") != std::string::npos) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const auto selector_text = input.substr(0, newline);
  const auto exposition = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  fp::series_selector selector;
  bool parsed = false;
  try {
    selector = fp::parse_series_selector(selector_text);
    parsed = true;
  } catch (const std::invalid_argument&) {
    selector = fp::parse_series_selector(R"(shop_breaker_state{dependency="postgres"})");
  }
  const auto found = fp::find_series(exposition, selector);
  check(found.value.has_value() == (found.matches > 0), "a value without a match, or a match without a value");

  if (parsed && writable(selector)) {
    const auto again = fp::parse_series_selector(selector.to_string());
    check(again.name == selector.name && again.labels == selector.labels, "a selector does not read back from to_string()");
    const std::string page = std::string(exposition) + "\n" + selector.to_string() + " 42.5\n";
    const auto seen = fp::find_series(page, selector);
    check(seen.matches == found.matches + 1, "a line written from the selector is not matched");
    if (found.matches == 0) check(seen.value == 42.5, "a line written from the selector does not give its value");
  }
  return 0;
}
