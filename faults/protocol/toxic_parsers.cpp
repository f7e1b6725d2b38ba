#include "faults/protocol/message_toxic.hpp"
#include "faults/protocol/postgres/pg_toxics.hpp"
#include "faults/protocol/redis/redis_toxics.hpp"
#include "faults/proxy/toxic_registry.hpp"

// The control API's view of the protocol toxics: Toxiproxy-style JSON attributes (durations in
// ms) parsed into the same immutable settings the fault types build. Kept apart from the
// settings themselves so the sessions and parsers link without the proxy's registry.

namespace faultline::protocol {
namespace {

// The registry's parsers report attribute_error; ours say which attribute.
template <typename F>
std::shared_ptr<const proxy::toxic_config> parsed(F make) {
  try {
    return make();
  } catch (const setting_error& e) {
    throw proxy::attribute_error(e.what());
  }
}

}  // namespace
}  // namespace faultline::protocol

namespace faultline::protocol::postgres {

namespace {

query_match match_from(const nlohmann::json& a) { return query_match(text_attribute(a, "match", ""), list_attribute(a, "statements")); }

}  // namespace

void register_postgres_toxics(proxy::toxic_registry& registry) {
  registry.add({"pg_delay", "hold the response to matching queries for `delay` ms +/- `jitter` ms", std::string(protocol_name),
                [](const nlohmann::json& a) {
                  return parsed([&] {
                    return std::make_shared<const pg_delay_toxic>(match_from(a), millis_attribute(a, "delay"), millis_attribute(a, "jitter"));
                  });
                }});
  registry.add({"pg_error", "answer matching queries with an ErrorResponse (`sqlstate`, `message`)", std::string(protocol_name),
                [](const nlohmann::json& a) {
                  return parsed([&] {
                    return std::make_shared<const pg_error_toxic>(match_from(a), text_attribute(a, "sqlstate", "57014"),
                                                                  text_attribute(a, "message", ""), text_attribute(a, "severity", "ERROR"));
                  });
                }});
  registry.add({"pg_drop", "cut the connection while a matching query is in flight", std::string(protocol_name),
                [](const nlohmann::json& a) {
                  return parsed([&] { return std::make_shared<const pg_drop_toxic>(match_from(a), text_attribute(a, "mode", "reset")); });
                }});
  registry.add({"pg_refuse", "refuse connections at startup with a FATAL error (53300 too_many_connections)", std::string(protocol_name),
                [](const nlohmann::json& a) {
                  return parsed([&] {
                    return std::make_shared<const pg_refuse_toxic>(text_attribute(a, "sqlstate", "53300"), text_attribute(a, "message", ""));
                  });
                }});
}

}  // namespace faultline::protocol::postgres

namespace faultline::protocol::redis {

namespace {

command_match match_from(const nlohmann::json& a) { return command_match(list_attribute(a, "commands"), text_attribute(a, "keys", "")); }

}  // namespace

void register_redis_toxics(proxy::toxic_registry& registry) {
  const std::string p(protocol_name);
  registry.add({"redis_delay", "hold the reply to matching Redis commands for `delay` ms +/- `jitter` ms", p, [](const nlohmann::json& a) {
                  return parsed([&] {
                    return std::make_shared<const redis_delay_toxic>(match_from(a), millis_attribute(a, "delay"), millis_attribute(a, "jitter"));
                  });
                }});
  registry.add({"redis_error", "answer matching Redis commands with an error (`error`: LOADING, BUSY, OOM, READONLY, MASTERDOWN, custom)", p,
                [](const nlohmann::json& a) {
                  return parsed([&] {
                    return std::make_shared<const redis_error_toxic>(match_from(a), text_attribute(a, "error", "LOADING"),
                                                                     text_attribute(a, "message", ""));
                  });
                }});
  registry.add({"redis_miss", "answer matching Redis reads as misses without asking the server", p, [](const nlohmann::json& a) {
                  return parsed([&] { return std::make_shared<const redis_miss_toxic>(match_from(a)); });
                }});
  registry.add({"redis_outage", "cut every connection (existing and new) while it lasts (`mode`: reset or close)", p,
                [](const nlohmann::json& a) {
                  return parsed([&] { return std::make_shared<const redis_outage_toxic>(text_attribute(a, "mode", "reset")); });
                }});
}

}  // namespace faultline::protocol::redis
