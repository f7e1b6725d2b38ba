# Read by ctest (tests/CMakeLists.txt, faultline_test): gives the discovered tests of one Catch2
# executable the ctest properties their tags ask for, so that one executable can hold both unit
# tests and tests that must not run beside other timing-sensitive ones.
#   [timing]  RESOURCE_LOCK timing: one such test at a time, beside the unit tests
#   [serial]  RUN_SERIAL: the test runs alone

# faultline_tagged_tests(EXECUTABLE PREFIX): EXECUTABLE's cases tagged [timing] or [serial], as
# catch_discover_tests named them (PREFIX + the case's name), get their property.
function(faultline_tagged_tests executable prefix)
  foreach(tag timing serial)
    execute_process(COMMAND "${executable}" "[${tag}]" --list-test-names-only
                    OUTPUT_VARIABLE listed RESULT_VARIABLE status)
    # Catch2 exits with the number of cases it listed; anything else (a crash) must not pass silently.
    if(NOT status MATCHES "^[0-9]+$")
      message(FATAL_ERROR "${executable} [${tag}] --list-test-names-only failed: ${status}")
    endif()
    string(REPLACE "\n" ";" listed "${listed}")
    set(tests "")
    foreach(test IN LISTS listed)
      if(NOT test STREQUAL "")
        list(APPEND tests "${prefix}${test}")
      endif()
    endforeach()
    if(tests)
      if(tag STREQUAL "timing")
        set_tests_properties(${tests} PROPERTIES RESOURCE_LOCK timing)
      else()
        set_tests_properties(${tests} PROPERTIES RUN_SERIAL TRUE)
      endif()
    endif()
  endforeach()
endfunction()
