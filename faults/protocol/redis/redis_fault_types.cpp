#include "faults/protocol/redis/redis_fault_types.hpp"

#include "faults/protocol/message_fault.hpp"
#include "faults/protocol/message_toxic.hpp"
#include "faults/protocol/redis/redis_flush.hpp"
#include "faults/protocol/redis/redis_toxics.hpp"

#include <fmt/format.h>

namespace faultline::protocol::redis {
namespace {

using std::chrono::nanoseconds;

param_schema with_match(param_schema own) {
  own.push_back({"commands", param_kind::text_list, "command names the fault acts on (case-insensitive); default: every command",
                 std::nullopt, false});
  own.push_back({"keys", param_kind::text, "Redis glob pattern every key of a command must match, e.g. 'session:*'", std::nullopt, false});
  return own;
}

command_match match_of(const params& p) {
  return command_match(p.maybe<std::vector<std::string>>("commands").value_or(std::vector<std::string>{}),
                       p.maybe<std::string>("keys").value_or(""));
}

std::string millis(std::uint64_t ns) {
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6);
}

std::vector<std::string> error_names() {
  std::vector<std::string> out;
  for (const auto& e : known_errors()) out.push_back(e.first);
  out.push_back("custom");
  return out;
}

}  // namespace

std::vector<faults::fault_type> redis_fault_types() {
  std::vector<faults::fault_type> out;
  const std::string p(protocol_name);

  out.push_back(message_fault_type({
      "redis_delay",
      "hold the reply to matching Redis commands for a delay (+/- jitter), keeping pipelined order",
      p,
      "command",
      with_match({
          {"delay", param_kind::duration, "how long the reply is held", std::nullopt, true, 0.0},
          {"jitter", param_kind::duration, "uniform +/- variation of the delay", nanoseconds(0), false, 0.0},
      }),
      [](const params& x) { return std::make_shared<const redis_delay_toxic>(match_of(x), x.duration("delay"), x.duration("jitter")); },
      [](const proxy::toxic_stats& s) {
        auto avg = s.messages_affected_total ? s.delay_ns_total / s.messages_affected_total : 0;
        return fmt::format("{} delayed by {} on average", s.messages_affected_total, millis(avg));
      },
      nullptr,
  }));

  out.push_back(message_fault_type({
      "redis_error",
      "answer matching Redis commands with an error (LOADING, BUSY, OOM, READONLY, MASTERDOWN or custom) without asking the server",
      p,
      "command",
      with_match({
          {"error", param_kind::choice, "which error", std::string("LOADING"), false, {}, {}, error_names()},
          {"message", param_kind::text, "the whole error line without '-' (required for custom; overrides the usual text)", std::string(),
           false},
      }),
      [](const params& x) { return std::make_shared<const redis_error_toxic>(match_of(x), x.text("error"), x.text("message")); },
      [](const proxy::toxic_stats& s) { return fmt::format("{} answered with the error", s.messages_affected_total); },
      nullptr,
  }));

  out.push_back(message_fault_type({
      "redis_miss",
      "answer matching Redis reads (GET, MGET, HGET, HGETALL, EXISTS, ...) as misses without asking the server; data stays",
      p,
      "command",
      with_match({}),
      [](const params& x) { return std::make_shared<const redis_miss_toxic>(match_of(x)); },
      [](const proxy::toxic_stats& s) { return fmt::format("{} answered as misses", s.messages_affected_total); },
      nullptr,
  }));

  out.push_back(message_fault_type({
      "redis_outage",
      "cut every connection through a Redis proxy, existing and new, while the fault lasts",
      p,
      "connection",
      {
          {"mode", param_kind::choice, "reset (RST) or close (FIN)", std::string("reset"), false, {}, {}, {"reset", "close"}},
      },
      [](const params& x) { return std::make_shared<const redis_outage_toxic>(x.text("mode")); },
      [](const proxy::toxic_stats& s) {
        return fmt::format("{} cut ({} reset, {} closed)", s.messages_affected_total, s.connections_reset_total, s.connections_closed_total);
      },
      nullptr,
  }));

  faults::fault_type flush;
  flush.name = "redis_flush";
  flush.summary = "run FLUSHDB on a real Redis (destructive: the step must say destructive: true)";
  flush.family = "cache";
  flush.target = faults::target_kind::address;
  flush.action = true;
  flush.destructive = true;
  flush.params = {
      {"database", param_kind::integer, "database number to flush", std::int64_t{0}, false, 0.0, 15.0},
      {"password", param_kind::text, "AUTH password, when the server requires one", std::string(), false},
      {"async", param_kind::flag, "FLUSHDB ASYNC (the server frees memory in the background)", false, false},
      {"timeout", param_kind::duration, "how long connecting and the exchange may take", nanoseconds(std::chrono::seconds(5)), false, 1e6},
  };
  flush.create = [](const params& x, const faults::fault_context& ctx) {
    redis_flush_settings s;
    s.database = x.integer("database");
    s.password = x.text("password");
    s.async = x.flag("async");
    s.timeout = x.duration("timeout");
    return std::unique_ptr<faults::fault>(std::make_unique<redis_flush>(ctx, s));
  };
  out.push_back(std::move(flush));
  return out;
}

}  // namespace faultline::protocol::redis
