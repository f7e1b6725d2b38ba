// The target that precompiles the test executables' common headers once (tests/CMakeLists.txt,
// FAULTLINE_PCH); they reuse its precompiled header. Nothing of its own to compile.
