# Run at build time (cmake -P): writes OUTPUT, a .cpp defining faultline::build_commit, from the git
# work tree at SOURCE_DIR. The file changes only when the commit (or its modified state) does.
execute_process(COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
if(failed OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(COMMAND git -C "${SOURCE_DIR}" --no-optional-locks status --porcelain --untracked-files=no
    OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT changes STREQUAL "")
    string(APPEND commit " (modified)")
  endif()
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated at build time by cmake/build_commit.cmake.\n"
  "#include \"faultline_version.hpp\"\n"
  "namespace faultline {\n"
  "const char* const build_commit = \"${commit}\";\n"
  "}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
