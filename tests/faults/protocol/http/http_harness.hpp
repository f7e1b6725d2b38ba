#pragma once
// What the http session tests share: an http toxic made from its declared defaults and the
// test's values, and a connection whose session is `protocol: http`'s.

#include "core/params.hpp"
#include "faults/protocol/http/http_session.hpp"
#include "tests/faults/proxy/harness.hpp"

#include <map>
#include <memory>
#include <string>

namespace faultline::test {

// The toxic's declared defaults, then `values`.
template <typename Toxic>
std::shared_ptr<const Toxic> make(std::map<std::string, param_value> values) {
  params p;
  for (const auto& tp : Toxic::type_descriptor().params)
    if (tp.spec.default_value) p.set(tp.spec.name, *tp.spec.default_value);
  for (auto& [k, v] : values) p.set(k, v);
  return std::make_shared<const Toxic>(p);
}

struct http_harness : message_harness {
  http_harness() : message_harness(protocol::http::http_protocol().open_session()) {}
};

}  // namespace faultline::test
