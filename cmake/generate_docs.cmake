# Run at build time (cmake -P): the built faultline (FAULTLINE) writes its manual page and bash
# completion into OUTPUT_DIR; the page is also gzipped (-n: no name or time, so the same bytes).
file(MAKE_DIRECTORY "${OUTPUT_DIR}")
foreach(pair IN ITEMS "man;faultline.1" "bash-completion;faultline.bash-completion")
  list(GET pair 0 what)
  list(GET pair 1 file)
  execute_process(COMMAND "${FAULTLINE}" --generate ${what} OUTPUT_FILE "${OUTPUT_DIR}/${file}" RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "faultline --generate ${what} failed (${failed})")
  endif()
endforeach()
execute_process(COMMAND gzip -9n -c "${OUTPUT_DIR}/faultline.1" OUTPUT_FILE "${OUTPUT_DIR}/faultline.1.gz"
                RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "gzip of faultline.1 failed (${failed})")
endif()
