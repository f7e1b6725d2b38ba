#pragma once
// redis_flush: FLUSHDB on a real Redis (the target address, or the upstream of a proxy of the
// run), as one pipelined exchange: AUTH (when given), SELECT, DBSIZE, FLUSHDB, DBSIZE. It
// destroys data, so its type is `destructive` and a step must confirm it. Nothing to revert.

#include "faults/fault.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace faultline::protocol::redis {

struct redis_flush_settings {
  std::int64_t database = 0;
  std::string password;  // AUTH before anything else when not empty
  bool async = false;    // FLUSHDB ASYNC
  std::chrono::nanoseconds timeout{std::chrono::seconds(5)};
};

class redis_flush final : public faults::fault {
public:
  redis_flush(faults::fault_context ctx, redis_flush_settings settings) : ctx_(std::move(ctx)), settings_(std::move(settings)) {}

  boost::asio::awaitable<void> inject() override;
  boost::asio::awaitable<void> revert() override { co_return; }
  faults::evidence collect_evidence() const override;

private:
  std::string address() const;  // the target, or the upstream of the proxy it names

  faults::fault_context ctx_;
  redis_flush_settings settings_;
  std::string flushed_at_;
  std::optional<std::int64_t> keys_before_;
  std::optional<std::int64_t> keys_after_;
  bool flushed_ = false;
};

// The `redis_flush` action type (family cache, destructive).
faults::fault_type redis_flush_type();

}  // namespace faultline::protocol::redis
