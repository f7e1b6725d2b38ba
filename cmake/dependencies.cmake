# Every dependency comes from a Debian 12 package; nothing is downloaded at build time.
find_package(Boost 1.81...<1.82 REQUIRED CONFIG COMPONENTS headers)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)  # the proxy's TLS (Debian: libssl-dev)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBNL REQUIRED IMPORTED_TARGET libnl-3.0 libnl-route-3.0)
pkg_check_modules(NFQUEUE REQUIRED IMPORTED_TARGET libnetfilter_queue libmnl)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)  # HPACK of the http proxy's HTTP/2 (Debian: libnghttp2-dev)
if(FAULTLINE_TESTS)
  find_package(Catch2 2.13 REQUIRED)
  include(Catch)
endif()

# Asio and Beast are used header-only; these keep their compile time and behaviour predictable.
add_library(faultline_asio INTERFACE)
target_link_libraries(faultline_asio INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(faultline_asio INTERFACE
  BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_DISABLE_BOOST_COROUTINE)
