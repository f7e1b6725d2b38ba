#pragma once
// `protocol: http`: a proxy session that follows HTTP/1.1 (h1_connection) and applies the http_*
// toxics per request. What no toxic acts on passes byte for byte; upgrades, CONNECT, HTTP/2 and
// what cannot be parsed pass through untouched.

#include "faults/proxy/protocol.hpp"

#include <memory>
#include <string_view>

namespace faultline::protocol::http {

class http_protocol final : public proxy::protocol {
public:
  std::string_view name() const override { return "http"; }
  std::unique_ptr<proxy::session> open_session() const override;
};

}  // namespace faultline::protocol::http
