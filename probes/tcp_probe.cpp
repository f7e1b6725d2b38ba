#include "probes/tcp_probe.hpp"

#include "core/tcp_connect.hpp"

#include <boost/beast/core/tcp_stream.hpp>

namespace faultline::probes {

tcp_probe_config tcp_probe_config::from(const params& p) {
  tcp_probe_config c;
  try {
    c.address = parse_address(p.text("address"));
  } catch (const std::invalid_argument& e) {
    throw param_error("address", e.what());
  }
  c.timeout = p.duration("timeout");
  return c;
}

boost::asio::awaitable<sample> tcp_probe::check(clock::time_point intended) {
  const auto started = clock::now();
  boost::beast::tcp_stream stream(executor_);
  const auto ec = co_await connect_before(stream, config_->address, started + config_->timeout);
  auto s = finished(intended, started, ec ? outcome_of(ec) : outcome::ok);
  boost::system::error_code ignored;
  stream.socket().close(ignored);
  co_return s;
}

}  // namespace faultline::probes
