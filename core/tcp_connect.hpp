#pragma once
// Connecting a TCP stream to an address before a deadline: numeric addresses directly, names
// through the resolver. Shared by the probes and by faults that talk to a server themselves.

#include "core/address.hpp"
#include "core/clock.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

namespace faultline {

// An empty error code when connected; the resolver's or the connect's error otherwise
// (beast::error::timeout when the deadline passed).
boost::asio::awaitable<boost::system::error_code> connect_before(boost::beast::tcp_stream& stream, const address& where,
                                                                 clock::time_point deadline);

}  // namespace faultline
