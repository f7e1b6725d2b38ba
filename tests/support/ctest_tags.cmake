# Run after each Catch2 test executable is built (tests/CMakeLists.txt, faultline_test): writes the
# ctest properties its test cases' tags ask for, so that one executable can hold both unit tests
# and tests that must not run beside other timing-sensitive ones (docs/testing.md):
#   [timing]  RESOURCE_LOCK timing: one such test at a time, beside the unit tests
#   [serial]  RUN_SERIAL: the test runs alone
#
#   cmake -D EXECUTABLE=<test executable> -D NAME=<its target> -D OUTPUT=<file> -P ctest_tags.cmake
#
# OUTPUT names each tagged case as faultline_test has catch_discover_tests name it: "NAME: <case>".

set(script "")
foreach(tag timing serial)
  execute_process(COMMAND "${EXECUTABLE}" "[${tag}]" --list-test-names-only
                  OUTPUT_VARIABLE listed RESULT_VARIABLE status)
  # Catch2 exits with the number of cases it listed; anything else (a crash) must not pass silently.
  if(NOT status MATCHES "^[0-9]+$")
    message(FATAL_ERROR "${EXECUTABLE} [${tag}] --list-test-names-only failed: ${status}")
  endif()
  if(tag STREQUAL "timing")
    set(property "RESOURCE_LOCK timing")
  else()
    set(property "RUN_SERIAL TRUE")
  endif()
  string(REPLACE "\n" ";" listed "${listed}")
  foreach(test IN LISTS listed)
    if(NOT test STREQUAL "")
      string(APPEND script "set_tests_properties([==[${NAME}: ${test}]==] PROPERTIES ${property})\n")
    endif()
  endforeach()
endforeach()
file(WRITE "${OUTPUT}" "${script}")
