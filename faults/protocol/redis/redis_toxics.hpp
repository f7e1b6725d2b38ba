#pragma once
// The Redis message-level toxics, each with its descriptor: immutable settings the redis
// session applies per command.
// redis_delay holds the reply, redis_error answers with an error instead of asking the server,
// redis_miss answers reads as if the keys did not exist, redis_outage cuts every connection.
// Commands are chosen by a command_match (command names and a key pattern).

#include "faults/protocol/message_toxic.hpp"
#include "faults/proxy/toxic_descriptor.hpp"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

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
  // The `commands` and `keys` parameters.
  static std::vector<proxy::toxic_param> params_for();

  // Throw param_error naming "commands" or "keys".
  explicit command_match(const params& p);
  command_match(std::vector<std::string> commands, std::string key_pattern);
  bool matches(const std::vector<std::string>& args) const;
  const std::set<std::string>& commands() const { return commands_; }
  // As given, for a toxic's settings.
  const std::vector<std::string>& given_commands() const { return given_; }
  const std::string& key_pattern() const { return key_pattern_; }

private:
  std::set<std::string> commands_;
  std::vector<std::string> given_;
  std::string key_pattern_;
};

// The toxics that act on commands.
using command_toxic = matching_toxic<command_match>;

class redis_delay_toxic final : public command_toxic, public message_delay {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit redis_delay_toxic(const params& p);  // throws param_error
  redis_delay_toxic(const command_match& match, proxy::duration delay, proxy::duration jitter);
};

// The errors a real Redis gives in the situations people test for, by their code.
const std::vector<std::pair<std::string, std::string>>& known_errors();  // {"LOADING", "LOADING Redis is ..."}

class redis_error_toxic final : public command_toxic {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  // `error`: a known code (LOADING, BUSY, OOM, READONLY, MASTERDOWN) or "custom"; `message`:
  // the whole error line without the '-' (required for custom, overrides the text otherwise).
  // Throws param_error.
  explicit redis_error_toxic(const params& p);
  redis_error_toxic(const command_match& match, std::string error, std::string message);
  const std::string& line() const { return line_; }  // what the client gets after '-'

private:
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
  static const proxy::toxic_descriptor& type_descriptor();
  explicit redis_miss_toxic(const params& p);  // only read commands; throws param_error
  explicit redis_miss_toxic(const command_match& match);
};

class redis_outage_toxic final : public proxy::toxic_config {
public:
  static const proxy::toxic_descriptor& type_descriptor();
  explicit redis_outage_toxic(const params& p);  // mode: reset (RST) or close (FIN)
  explicit redis_outage_toxic(std::string mode);
  bool reset() const { return reset_; }

private:
  bool reset_;
};

}  // namespace faultline::protocol::redis
