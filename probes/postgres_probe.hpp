#pragma once
// The postgres probe: one query per check over a kept connection, through libpq's asynchronous
// API on its socket (nothing blocks the io_context; the timeout covers connecting and the query).
// ok when the query succeeds and, if `expect` is given, the first column of the first row equals
// it; a numeric first value is recorded as the sample value.

#include "core/fd_wait.hpp"
#include "probes/probe.hpp"

#include <memory>
#include <optional>
#include <string>

struct pg_conn;

namespace faultline::probes {

struct postgres_probe_config {
  std::string conninfo;
  std::string query;
  std::optional<std::string> expect;
  std::chrono::nanoseconds timeout{};
  static postgres_probe_config from(const params& p);  // throws param_error
};

// The outcome for a failed statement's SQLSTATE: connection loss and shutdown are `reset`,
// 53300 (too many connections) `connect_refused`, 57014 (statement timeout) `timeout`, others
// `protocol_error`.
outcome outcome_of_sqlstate(std::string_view sqlstate);

class postgres_probe : public probe {
public:
  postgres_probe(std::shared_ptr<const postgres_probe_config> config, boost::asio::any_io_executor executor);
  ~postgres_probe() override;
  boost::asio::awaitable<sample> check(clock::time_point intended) override;

private:
  boost::asio::awaitable<std::optional<outcome>> connect(clock::time_point deadline);
  void close();

  std::shared_ptr<const postgres_probe_config> config_;
  fd_waiter waiter_;
  pg_conn* conn_ = nullptr;
};

}  // namespace faultline::probes
