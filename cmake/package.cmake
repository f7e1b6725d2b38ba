# CPack: the Debian package faultline_<version>_amd64.deb (scripts/package.sh builds it). Its
# Depends are the runtime libraries the executable links, as dpkg-shlibdeps finds them.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME faultline)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${FAULTLINE_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "chaos and resilience testing: inject faults, measure recovery, score it")
set(CPACK_PACKAGE_DESCRIPTION
"faultline runs resilience experiments written in YAML: it starts load and
health probes against a system, injects faults on a timeline (latency, loss
and outages through its own TCP proxies, PostgreSQL and Redis aware faults,
netem network faults, connection storms), watches how the system degrades,
whether its circuit breakers open and close and how long it takes to recover,
and scores the result against the experiment's targets, with a JSON journal
and HTML, Markdown and JUnit reports.
.
It also runs as a Toxiproxy-compatible proxy daemon (faultline-proxy.service).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # faultline_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
# Network faults run `nft`/`iptables` for the userspace engine and servers for tests are optional.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nftables | iptables, redis-server, postgresql")
include(CPack)
