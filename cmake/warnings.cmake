# Warnings are errors for our own code; third-party headers come in as SYSTEM includes.
add_library(faultline_warnings INTERFACE)
target_compile_options(faultline_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Wno-missing-field-initializers -Woverloaded-virtual -Wimplicit-fallthrough)
# The GCC build keeps warnings at zero; clang (the fuzz build) warns about other things, and
# GCC's warnings change under sanitizer instrumentation at -O1 (a false -Wmismatched-new-delete on
# Asio's coroutine frames), so the sanitizer lanes report warnings without failing on them.
if(NOT FAULTLINE_FUZZ AND NOT FAULTLINE_SANITIZE AND NOT FAULTLINE_TSAN)
  target_compile_options(faultline_warnings INTERFACE -Werror)
endif()

# Sanitizer lanes, each in a build directory of its own (scripts/sanitize.sh, docs/testing.md).
if(FAULTLINE_SANITIZE AND FAULTLINE_TSAN)
  message(FATAL_ERROR "FAULTLINE_SANITIZE (ASan+UBSan) and FAULTLINE_TSAN cannot share a build: use one build directory per lane "
                      "(scripts/sanitize.sh asan|tsan)")
endif()
if(FAULTLINE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(FAULTLINE_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # GCC warns that TSan does not see std::atomic_thread_fence (used by Asio); the handoffs in our
  # code rely on locks and atomics, which it does see.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
endif()
if(FAULTLINE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FAULTLINE_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++, or use scripts/fuzz.sh")
  endif()
  # -fno-sanitize=function: clang 14's function sanitizer cannot compile Asio's coroutines ("Cannot
  # represent a difference across sections").
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# faultline_module(NAME folder) : the static library for one source folder.
function(faultline_module name)
  add_library(${name} STATIC)
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(${name} PRIVATE faultline_warnings)
  faultline_precompiled_headers(${name})
endfunction()
