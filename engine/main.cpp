// The faultline executable.
#include "engine/cli/cli.hpp"

int main(int argc, char** argv) { return faultline::cli::main(argc, argv); }
