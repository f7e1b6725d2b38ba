// The main of every test executable: Catch2's own, with two warnings turned into failures (the
// command line cannot: Catch2 2.13 takes --warn once). A filter that matches no test case fails,
// so a name ctest cannot carry does not pass by running nothing; a test case that checks no
// assertion fails, so no ctest entry passes without checking something.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
  Catch::Session session;
  session.configData().warnings =
      static_cast<Catch::WarnAbout::What>(Catch::WarnAbout::NoAssertions | Catch::WarnAbout::NoTests);
  if (const int status = session.applyCommandLine(argc, argv); status != 0) return status;
  return session.run();
}
