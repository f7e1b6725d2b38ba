#pragma once
// Connecting a TCP stream to "host:port" before a deadline, with failures as outcomes. Shared by
// the tcp and redis probes.

#include "probes/sample.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace faultline::probes {

struct endpoint_name {
  std::string host;  // without brackets
  std::string port;
};

// "host:port" or "[v6]:port"; throws std::invalid_argument saying what to write.
endpoint_name split_address(std::string_view address);

// Resolves (numeric addresses without the resolver) and connects; nullopt when connected.
boost::asio::awaitable<std::optional<outcome>> connect_before(boost::beast::tcp_stream& stream,
                                                              const endpoint_name& where,
                                                              clock::time_point deadline);

// The outcome for a failed network operation (refused, reset, timeout, ...).
outcome outcome_of(const boost::system::error_code& ec);

}  // namespace faultline::probes
