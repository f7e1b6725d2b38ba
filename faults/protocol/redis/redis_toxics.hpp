#pragma once
// The Redis message-level toxics: immutable settings the redis session applies per command.
// redis_delay holds the reply, redis_error answers with an error instead of asking the server,
// redis_miss answers reads as if the keys did not exist, redis_outage cuts every connection.
// Commands are chosen by a command_match (command names and a key pattern).

#include "faults/proxy/toxic.hpp"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::proxy {
class toxic_registry;
}

namespace faultline::protocol::redis {

inline constexpr std::string_view protocol_name = "redis";

// Positions of the keys in a command (args[0] is the name), for the common commands: all
// arguments of MGET/EXISTS/DEL/..., every other one of MSET, EVAL's numkeys, the first argument
// otherwise; none for commands that take no key (PING, AUTH, INFO, ...).
std::vector<std::size_t> key_positions(const std::vector<std::string>& args);

// Upper-cases a command name.
std::string upper(std::string_view s);

// Which commands a toxic acts on: command names (case-insensitive; none: every command) and a
// Redis glob pattern that every key of the command must match (none: any command, with or
// without keys).
class command_match {
public:
  // Throws setting_error naming "commands" or "keys".
  command_match(std::vector<std::string> commands, std::string key_pattern);
  bool matches(const std::vector<std::string>& args) const;
  void describe(nlohmann::ordered_json& attributes) const;  // adds "commands" and "keys"
  const std::set<std::string>& commands() const { return commands_; }

private:
  std::set<std::string> commands_;
  std::vector<std::string> given_;
  std::string key_pattern_;
};

class command_toxic : public proxy::toxic_config {
public:
  explicit command_toxic(command_match match) : match_(std::move(match)) {}
  std::string_view protocol() const override { return protocol_name; }
  const command_match& match() const { return match_; }

protected:
  nlohmann::ordered_json with_match(nlohmann::ordered_json attributes) const;

private:
  command_match match_;
};

class redis_delay_toxic final : public command_toxic {
public:
  redis_delay_toxic(command_match match, proxy::duration delay, proxy::duration jitter);  // throws setting_error
  std::string_view type() const override { return "redis_delay"; }
  nlohmann::ordered_json attributes() const override;
  proxy::duration delay() const { return delay_; }
  proxy::duration jitter() const { return jitter_; }

private:
  proxy::duration delay_;
  proxy::duration jitter_;
};

// The errors a real Redis gives in the situations people test for, by their code.
const std::vector<std::pair<std::string, std::string>>& known_errors();  // {"LOADING", "LOADING Redis is ..."}

class redis_error_toxic final : public command_toxic {
public:
  // `error`: a known code (LOADING, BUSY, OOM, READONLY, MASTERDOWN) or "custom"; `message`:
  // the whole error line without the '-' (required for custom, overrides the text otherwise).
  redis_error_toxic(command_match match, std::string error, std::string message);
  std::string_view type() const override { return "redis_error"; }
  nlohmann::ordered_json attributes() const override;
  const std::string& line() const { return line_; }  // what the client gets after '-'

private:
  std::string error_;
  std::string given_message_;
  std::string line_;
};

// The read commands redis_miss can answer, and what "no such key" looks like for each.
const std::vector<std::string>& miss_commands();
// The reply to a read of missing keys in protocol version `resp`; empty when the command is not
// a read redis_miss answers or its arguments are not what the server accepts (so the server's
// own error goes to the client).
proxy::byte_buffer miss_reply(const std::vector<std::string>& args, int resp);

class redis_miss_toxic final : public command_toxic {
public:
  explicit redis_miss_toxic(command_match match);  // only read commands; throws setting_error
  std::string_view type() const override { return "redis_miss"; }
  nlohmann::ordered_json attributes() const override { return with_match({}); }
};

class redis_outage_toxic final : public proxy::toxic_config {
public:
  explicit redis_outage_toxic(std::string mode);  // reset (RST) or close (FIN)
  std::string_view type() const override { return "redis_outage"; }
  std::string_view protocol() const override { return protocol_name; }
  nlohmann::ordered_json attributes() const override { return {{"mode", mode_}}; }
  bool reset() const { return mode_ == "reset"; }

private:
  std::string mode_;
};

// redis_delay, redis_error, redis_miss and redis_outage for the control API (in toxic_parsers.cpp).
void register_redis_toxics(proxy::toxic_registry& registry);

}  // namespace faultline::protocol::redis
