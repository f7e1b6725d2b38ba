# What `cmake --install` puts where (GNUInstallDirs): the executable, the manual page faultline(1)
# and the bash completion (both written by the built faultline from its own CLI, so they never
# drift), the documentation, the example experiments and the proxy daemon's systemd unit.
include(GNUInstallDirs)
# Installing (and cpack) builds only what is installed, not the tests and benchmarks: build
# `faultline faultline_docs` first (scripts/package.sh does).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# The build writes the manual page and the completion with the faultline it just built.
set(FAULTLINE_GENERATED_DOCS ${CMAKE_BINARY_DIR}/generated/docs)
add_custom_command(
  OUTPUT ${FAULTLINE_GENERATED_DOCS}/faultline.1 ${FAULTLINE_GENERATED_DOCS}/faultline.1.gz
         ${FAULTLINE_GENERATED_DOCS}/faultline.bash-completion
  COMMAND ${CMAKE_COMMAND} -D FAULTLINE=$<TARGET_FILE:faultline> -D OUTPUT_DIR=${FAULTLINE_GENERATED_DOCS}
          -P ${PROJECT_SOURCE_DIR}/cmake/generate_docs.cmake
  DEPENDS faultline ${PROJECT_SOURCE_DIR}/cmake/generate_docs.cmake
  COMMENT "Writing faultline(1) and the bash completion from the CLI")
add_custom_target(faultline_docs ALL DEPENDS ${FAULTLINE_GENERATED_DOCS}/faultline.1.gz
                                             ${FAULTLINE_GENERATED_DOCS}/faultline.bash-completion)

install(TARGETS faultline RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${FAULTLINE_GENERATED_DOCS}/faultline.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${FAULTLINE_GENERATED_DOCS}/faultline.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME faultline)
install(FILES README.md cmake/package/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
install(DIRECTORY experiments/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The changelog Debian's policy asks for, as /usr/share/doc/faultline/changelog.gz.
string(TIMESTAMP FAULTLINE_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(FAULTLINE_PACKAGE_MAINTAINER "faultline maintainers <faultline@example.org>" CACHE STRING
    "Maintainer named in the Debian package")
file(CONFIGURE OUTPUT ${FAULTLINE_GENERATED_DOCS}/changelog CONTENT
"faultline (${PROJECT_VERSION}) unstable; urgency=medium

  * faultline ${PROJECT_VERSION}, packaged with CPack from the source tree.

 -- ${FAULTLINE_PACKAGE_MAINTAINER}  ${FAULTLINE_CHANGELOG_DATE}
")
execute_process(COMMAND gzip -9n -c ${FAULTLINE_GENERATED_DOCS}/changelog
                OUTPUT_FILE ${FAULTLINE_GENERATED_DOCS}/changelog.gz COMMAND_ERROR_IS_FATAL ANY)
install(FILES ${FAULTLINE_GENERATED_DOCS}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The unit names the binary where this install puts it: CPack installs with its own prefix (/usr),
# so the path is filled in at install time, not when the build is configured.
install(CODE "
  set(FAULTLINE_INSTALLED_BINARY \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/faultline\")
  configure_file(\"${PROJECT_SOURCE_DIR}/cmake/package/faultline-proxy.service.in\"
                 \"${CMAKE_BINARY_DIR}/generated/faultline-proxy.service\" @ONLY)")
install(FILES ${CMAKE_BINARY_DIR}/generated/faultline-proxy.service DESTINATION lib/systemd/system)
