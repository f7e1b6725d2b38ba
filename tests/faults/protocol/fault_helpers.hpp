#pragma once
// Building protocol fault types as the loader would (defaults filled in) and running their
// inject/revert, for the integration tests against real servers; files for their servers to serve.

#include "faults/fault.hpp"
#include "tests/support/eventually.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <string>

namespace faultline::test {

inline const faults::fault_type& fault_type_named(const char* name) {
  static faults::fault_registry registry = [] {
    faults::fault_registry r;
    faults::register_builtin_faults(r);
    return r;
  }();
  auto* t = registry.find(name);
  REQUIRE(t);
  return *t;
}

// The type's defaults, then `values`; validated as the loader validates.
inline params fault_params(const faults::fault_type& t, std::map<std::string, param_value> values) {
  params p;
  for (const auto& spec : t.params)
    if (spec.default_value) p.set(spec.name, *spec.default_value);
  for (auto& [k, v] : values) p.set(k, v);
  if (t.validate) t.validate(p);
  return p;
}

inline void run_to_end(boost::asio::io_context& ioc, boost::asio::awaitable<void> a) {
  auto f = boost::asio::co_spawn(ioc, std::move(a), boost::asio::use_future);
  ioc.restart();
  ioc.run();
  f.get();
}

// A file with exactly `content` (a document for a test server to serve).
inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  REQUIRE(out.good());
}

}  // namespace faultline::test
