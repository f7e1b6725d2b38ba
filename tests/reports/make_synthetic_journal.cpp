// Writes the synthetic journal (tests/reports/synthetic_journal.hpp) to a file: how
// tests/reports/data/checkout-journal.json was recorded, and what scripts/screenshot-report.sh renders.
#include "reports/journal.hpp"
#include "tests/reports/synthetic_journal.hpp"

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: faultline_synthetic_journal OUT.json\n";
    return 2;
  }
  try {
    faultline::reports::write_journal(faultline::test::synthetic_journal(), argv[1]);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  return 0;
}
