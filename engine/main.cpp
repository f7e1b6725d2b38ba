// The faultline executable.
#include "engine/cli/cli.hpp"
#include "faultline_version.hpp"

int main(int argc, char** argv) { return faultline::cli::main(argc, argv, faultline::build_commit); }
