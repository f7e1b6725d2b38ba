#include "faults/protocol/redis/redis_toxics.hpp"

#include "faults/protocol/redis/resp.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

namespace faultline::protocol::redis {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

namespace {

bool in(const std::string& name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::vector<std::size_t> key_positions(const std::vector<std::string>& args) {
  std::vector<std::size_t> out;
  if (args.size() < 2) return out;
  const auto name = upper(args[0]);
  if (in(name, {"PING", "ECHO", "AUTH", "HELLO", "SELECT", "INFO", "CLIENT", "CONFIG", "DBSIZE", "FLUSHDB", "FLUSHALL", "MULTI",
                "EXEC", "DISCARD", "QUIT", "RESET", "COMMAND", "SCAN", "KEYS", "RANDOMKEY", "TIME", "SUBSCRIBE", "PSUBSCRIBE",
                "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "PUBLISH", "SPUBLISH", "PUBSUB", "SCRIPT", "FUNCTION",
                "SAVE", "BGSAVE", "BGREWRITEAOF", "LASTSAVE", "MONITOR", "SLOWLOG", "LATENCY", "WAIT", "ROLE", "REPLICAOF",
                "SLAVEOF", "DEBUG", "SHUTDOWN", "CLUSTER", "READONLY", "READWRITE", "SWAPDB", "ACL", "MODULE", "LOLWUT"}))
    return out;
  if (in(name, {"MGET", "EXISTS", "DEL", "UNLINK", "TOUCH", "WATCH", "SINTER", "SUNION", "SDIFF", "PFCOUNT", "PFMERGE"})) {
    for (std::size_t i = 1; i < args.size(); ++i) out.push_back(i);
  } else if (in(name, {"MSET", "MSETNX"})) {
    for (std::size_t i = 1; i < args.size(); i += 2) out.push_back(i);
  } else if (in(name, {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})) {
    std::size_t n = 0;
    if (args.size() >= 3) std::from_chars(args[2].data(), args[2].data() + args[2].size(), n);
    for (std::size_t i = 3; i < args.size() && i < 3 + n; ++i) out.push_back(i);
  } else if (in(name, {"BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"})) {
    for (std::size_t i = 1; i + 1 < args.size(); ++i) out.push_back(i);
  } else {
    out.push_back(1);
  }
  return out;
}

command_match::command_match(std::vector<std::string> commands, std::string key_pattern)
    : given_(std::move(commands)), key_pattern_(std::move(key_pattern)) {
  for (const auto& c : given_) {
    if (c.empty() || c.find_first_of(" \t\r\n") != std::string::npos)
      throw param_error("commands", fmt::format("'{}' is not a command name (one word, e.g. GET)", c));
    commands_.insert(upper(c));
  }
  if (key_pattern_.find_first_of("\r\n") != std::string::npos) throw param_error("keys", "the key pattern must be one line");
}

bool command_match::matches(const std::vector<std::string>& args) const {
  if (args.empty()) return false;
  if (!commands_.empty() && !commands_.contains(upper(args[0]))) return false;
  if (key_pattern_.empty()) return true;
  auto keys = key_positions(args);
  if (keys.empty()) return false;
  return std::all_of(keys.begin(), keys.end(), [&](std::size_t i) { return glob_match(key_pattern_, args[i]); });
}

const std::vector<std::pair<std::string, std::string>>& known_errors() {
  // The texts Redis 7 sends (server.c shared objects).
  static const std::vector<std::pair<std::string, std::string>> errors{
      {"LOADING", "LOADING Redis is loading the dataset in memory"},
      {"BUSY", "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."},
      {"OOM", "OOM command not allowed when used memory > 'maxmemory'."},
      {"READONLY", "READONLY You can't write against a read only replica."},
      {"MASTERDOWN", "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."},
  };
  return errors;
}

namespace {

// What a read of missing keys answers: the shape, and the arity the server accepts.
enum class miss_shape { null, null_per_key, null_per_field, empty_map, empty_set, empty_array, zero, minus_two, none_type, empty_string };
struct miss_rule {
  miss_shape shape;
  std::size_t min_args;
  std::size_t max_args;  // 0: no limit
};

const std::map<std::string, miss_rule, std::less<>>& miss_rules() {
  static const std::map<std::string, miss_rule, std::less<>> rules{
      {"GET", {miss_shape::null, 2, 2}},
      {"MGET", {miss_shape::null_per_key, 2, 0}},
      {"HGET", {miss_shape::null, 3, 3}},
      {"HMGET", {miss_shape::null_per_field, 3, 0}},
      {"HGETALL", {miss_shape::empty_map, 2, 2}},
      {"HKEYS", {miss_shape::empty_array, 2, 2}},
      {"HVALS", {miss_shape::empty_array, 2, 2}},
      {"HEXISTS", {miss_shape::zero, 3, 3}},
      {"HLEN", {miss_shape::zero, 2, 2}},
      {"EXISTS", {miss_shape::zero, 2, 0}},
      {"STRLEN", {miss_shape::zero, 2, 2}},
      {"GETRANGE", {miss_shape::empty_string, 4, 4}},
      {"LINDEX", {miss_shape::null, 3, 3}},
      {"LRANGE", {miss_shape::empty_array, 4, 4}},
      {"LLEN", {miss_shape::zero, 2, 2}},
      {"SMEMBERS", {miss_shape::empty_set, 2, 2}},
      {"SISMEMBER", {miss_shape::zero, 3, 3}},
      {"SCARD", {miss_shape::zero, 2, 2}},
      {"ZSCORE", {miss_shape::null, 3, 3}},
      {"ZRANGE", {miss_shape::empty_array, 4, 0}},
      {"ZCARD", {miss_shape::zero, 2, 2}},
      {"TTL", {miss_shape::minus_two, 2, 2}},
      {"PTTL", {miss_shape::minus_two, 2, 2}},
      {"TYPE", {miss_shape::none_type, 2, 2}},
  };
  return rules;
}

}  // namespace

const std::vector<std::string>& miss_commands() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, rule] : miss_rules()) out.push_back(name);
    return out;
  }();
  return names;
}

proxy::byte_buffer miss_reply(const std::vector<std::string>& args, int resp) {
  if (args.empty()) return {};
  auto it = miss_rules().find(upper(args[0]));
  if (it == miss_rules().end()) return {};
  const auto& rule = it->second;
  if (args.size() < rule.min_args || (rule.max_args && args.size() > rule.max_args)) return {};
  auto nulls = [&](std::size_t n) {
    auto out = array_header('*', n);
    auto one = null_reply(resp);
    for (std::size_t i = 0; i < n; ++i) out.insert(out.end(), one.begin(), one.end());
    return out;
  };
  switch (rule.shape) {
    case miss_shape::null: return null_reply(resp);
    case miss_shape::null_per_key: return nulls(args.size() - 1);
    case miss_shape::null_per_field: return nulls(args.size() - 2);
    case miss_shape::empty_map: return array_header(resp >= 3 ? '%' : '*', 0);
    case miss_shape::empty_set: return array_header(resp >= 3 ? '~' : '*', 0);
    case miss_shape::empty_array: return array_header('*', 0);
    case miss_shape::zero: return integer_reply(0);
    case miss_shape::minus_two: return integer_reply(-2);
    case miss_shape::none_type: {
      proxy::byte_buffer out;
      for (char c : std::string_view("+none\r\n")) out.push_back(c);
      return out;
    }
    case miss_shape::empty_string: return empty_bulk_reply();
  }
  return {};
}

namespace {

params with_match(const command_match& match, params p) {
  p.set("commands", match.given_commands());
  p.set("keys", match.key_pattern());
  return p;
}

std::vector<proxy::toxic_param> with_match(std::vector<proxy::toxic_param> own) {
  for (auto& p : command_match::params_for()) own.push_back(std::move(p));
  return own;
}

std::vector<std::string> error_names() {
  std::vector<std::string> out;
  for (const auto& e : known_errors()) out.push_back(e.first);
  out.push_back("custom");
  return out;
}

const std::string redis(protocol_name);

}  // namespace

std::vector<proxy::toxic_param> command_match::params_for() {
  return {
      proxy::list_param("commands", "command names the fault acts on (case-insensitive); default: every command"),
      proxy::text_param("keys", "Redis glob pattern every key of a command must match, e.g. 'session:*'; default: any", ""),
  };
}

command_match::command_match(const params& p) : command_match(p.list("commands"), p.text("keys")) {}

const proxy::toxic_descriptor& redis_delay_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "redis_delay",
      .summary = "hold the reply to matching Redis commands for a delay (+/- jitter), keeping pipelined order",
      .protocol = redis,
      .noun = "command",
      .params = with_match(message_delay::params_for("the reply")),
      .make = proxy::made_of<redis_delay_toxic>(),
      .describe = delayed,
  };
  return d;
}

redis_delay_toxic::redis_delay_toxic(const params& p) : command_toxic(type_descriptor(), p), message_delay(p) {}

redis_delay_toxic::redis_delay_toxic(const command_match& match, proxy::duration delay, proxy::duration jitter)
    : redis_delay_toxic(with_match(match, proxy::settings_of({{"delay", delay}, {"jitter", jitter}}))) {}

const proxy::toxic_descriptor& redis_error_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "redis_error",
      .summary = "answer matching Redis commands with an error (LOADING, BUSY, OOM, READONLY, MASTERDOWN or custom) without asking the server",
      .protocol = redis,
      .noun = "command",
      .params = with_match({
          proxy::choice_param("error", "which error", "LOADING", error_names()),
          proxy::text_param("message", "the whole error line without '-' (required for custom; overrides the usual text)", ""),
      }),
      .make = proxy::made_of<redis_error_toxic>(),
      .describe = [](const proxy::toxic_stats& s) { return affected(s, fmt::format("{} answered with the error", s.messages_affected_total)); },
  };
  return d;
}

redis_error_toxic::redis_error_toxic(const params& p) : command_toxic(type_descriptor(), p) {
  const auto& given = p.text("message");
  const auto error = upper(p.text("error"));
  if (given.find_first_of("\r\n") != std::string::npos) throw param_error("message", "the error message must be one line (no CR or LF)");
  if (error == "CUSTOM") {
    if (given.empty())
      throw param_error("message", "error: custom needs a message, the error line without '-', e.g. 'ERR backend unavailable'");
    line_ = given;
    return;
  }
  const auto& known = known_errors();
  auto it = std::find_if(known.begin(), known.end(), [&](const auto& e) { return e.first == error; });
  if (it == known.end()) {
    std::vector<std::string> names;
    for (const auto& e : known) names.push_back(e.first);
    throw param_error("error", fmt::format("unknown error '{}' (known: {}, or custom with a message)", p.text("error"), fmt::join(names, ", ")));
  }
  line_ = given.empty() ? it->second : given;
}

redis_error_toxic::redis_error_toxic(const command_match& match, std::string error, std::string message)
    : redis_error_toxic(with_match(match, proxy::settings_of({{"error", error}, {"message", message}}))) {}

const proxy::toxic_descriptor& redis_miss_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "redis_miss",
      .summary = "answer matching Redis reads (GET, MGET, HGET, HGETALL, EXISTS, ...) as misses without asking the server; data stays",
      .protocol = redis,
      .noun = "command",
      .params = with_match({}),
      .make = proxy::made_of<redis_miss_toxic>(),
      .describe = [](const proxy::toxic_stats& s) { return affected(s, fmt::format("{} answered as misses", s.messages_affected_total)); },
  };
  return d;
}

redis_miss_toxic::redis_miss_toxic(const params& p) : command_toxic(type_descriptor(), p) {
  for (const auto& c : match().commands())
    if (!miss_rules().contains(c))
      throw param_error("commands", fmt::format("redis_miss answers reads only; '{}' is not one of {}", c, fmt::join(miss_commands(), ", ")));
}

redis_miss_toxic::redis_miss_toxic(const command_match& match) : redis_miss_toxic(with_match(match, {})) {}

const proxy::toxic_descriptor& redis_outage_toxic::type_descriptor() {
  static const proxy::toxic_descriptor d{
      .name = "redis_outage",
      .summary = "cut every connection through a Redis proxy, existing and new, while the fault lasts",
      .protocol = redis,
      .noun = "connection",
      .params = {proxy::choice_param("mode", "reset (RST) or close (FIN)", "reset", {"reset", "close"})},
      .make = proxy::made_of<redis_outage_toxic>(),
      .describe = [](const proxy::toxic_stats& s) {
        return affected(s, fmt::format("{} cut ({} reset, {} closed)", s.messages_affected_total, s.connections_reset_total,
                                       s.connections_closed_total));
      },
  };
  return d;
}

redis_outage_toxic::redis_outage_toxic(const params& p) : proxy::toxic_config(type_descriptor(), p), reset_(p.text("mode") == "reset") {
  if (p.text("mode") != "reset" && p.text("mode") != "close")
    throw param_error("mode", fmt::format("mode must be reset (RST) or close (FIN), got '{}'", p.text("mode")));
}

redis_outage_toxic::redis_outage_toxic(std::string mode) : redis_outage_toxic(proxy::settings_of({{"mode", mode}})) {}

}  // namespace faultline::protocol::redis
