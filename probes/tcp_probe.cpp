#include "probes/tcp_probe.hpp"

#include <boost/beast/core/tcp_stream.hpp>

namespace faultline::probes {

tcp_probe_config tcp_probe_config::from(const params& p) {
  tcp_probe_config c;
  try {
    c.address = split_address(p.text("address"));
  } catch (const std::invalid_argument& e) {
    throw param_error("address", e.what());
  }
  c.timeout = p.duration("timeout");
  return c;
}

boost::asio::awaitable<sample> tcp_probe::check(clock::time_point intended) {
  const auto started = clock::now();
  boost::beast::tcp_stream stream(executor_);
  auto failure = co_await connect_before(stream, config_->address, started + config_->timeout);
  auto s = finished(intended, started, failure.value_or(outcome::ok));
  boost::system::error_code ignored;
  stream.socket().close(ignored);
  co_return s;
}

}  // namespace faultline::probes
