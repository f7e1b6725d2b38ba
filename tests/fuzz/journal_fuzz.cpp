// libFuzzer target for the journal reader (reports/journal.cpp): read_journal, as `faultline
// report`, `diff` and `run --baseline` read a journal file, on arbitrary bytes. Checks, besides
// "no crash, leak or sanitizer report": bad input is a journal_error (exit 2), never another
// exception; a journal that reads is written back to JSON that reads as the same journal.
// Build and run: scripts/fuzz.sh --target journal (docs/testing.md).

#include "reports/journal.hpp"
#include "tests/fuzz/scratch_file.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <typeinfo>

namespace fr = faultline::reports;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& file = faultline::fuzz::scratch_file("journal.json");
  faultline::fuzz::write_scratch(file, data, size);
  try {
    const auto j = fr::read_journal(file.string());
    const auto written = fr::to_json(j);
    const auto again = fr::journal_from_json(written);
    if (fr::to_json(again) != written) {
      std::fprintf(stderr, "journal_fuzz: a journal read back from its own JSON differs:\n%s\n%s\n", written.dump().c_str(),
                   fr::to_json(again).dump().c_str());
      std::abort();
    }
  } catch (const fr::journal_error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "journal_fuzz: read_journal threw %s instead of a journal_error: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
  return 0;
}
