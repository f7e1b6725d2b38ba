# Warnings are errors for our own code; third-party headers come in as SYSTEM includes.
add_library(faultline_warnings INTERFACE)
target_compile_options(faultline_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Wno-missing-field-initializers -Woverloaded-virtual -Wimplicit-fallthrough -Werror)

if(FAULTLINE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# faultline_module(NAME folder) : the static library for one source folder.
function(faultline_module name)
  add_library(${name} STATIC)
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(${name} PRIVATE faultline_warnings)
  faultline_precompiled_headers(${name})
endfunction()
