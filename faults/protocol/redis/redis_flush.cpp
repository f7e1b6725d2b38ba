#include "faults/protocol/redis/redis_flush.hpp"

#include "core/tcp_connect.hpp"
#include "faults/protocol/redis/resp.hpp"
#include "faults/proxy/proxy_set.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace faultline::protocol::redis {
namespace {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::optional<std::int64_t> integer_of(const std::string& reply) {
  if (reply.size() < 4 || reply.front() != ':') return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(reply.data() + 1, reply.data() + reply.size() - 2, v);
  if (ec != std::errc() || end != reply.data() + reply.size() - 2) return std::nullopt;
  return v;
}

std::string line_of(const std::string& reply) {
  auto end = reply.find('\r');
  return reply.substr(1, end == std::string::npos ? std::string::npos : end - 1);
}

}  // namespace

std::string redis_flush::address() const {
  if (ctx_.proxies)
    if (auto p = ctx_.proxies->find(ctx_.target)) return p->upstream;
  return ctx_.target;
}

asio::awaitable<void> redis_flush::inject() {
  flushed_at_ = address();
  faultline::address where;
  try {
    where = parse_address(flushed_at_);
  } catch (const std::invalid_argument& e) {
    throw faults::fault_error(fmt::format("redis_flush: target '{}': {}", flushed_at_, e.what()));
  }
  std::vector<std::vector<std::string>> commands;
  if (!settings_.password.empty()) commands.push_back({"AUTH", settings_.password});
  commands.push_back({"SELECT", std::to_string(settings_.database)});
  commands.push_back({"DBSIZE"});
  commands.push_back(settings_.async ? std::vector<std::string>{"FLUSHDB", "ASYNC"} : std::vector<std::string>{"FLUSHDB"});
  commands.push_back({"DBSIZE"});
  proxy::byte_buffer request;
  for (const auto& c : commands) {
    auto bytes = command(c);
    request.insert(request.end(), bytes.begin(), bytes.end());
  }

  const auto deadline = std::chrono::steady_clock::now() + settings_.timeout;
  boost::beast::tcp_stream stream(ctx_.executor);
  if (const auto ec = co_await connect_before(stream, where, deadline))
    throw faults::fault_error(fmt::format("redis_flush: cannot connect to {}: {}", flushed_at_, ec.message()));
  stream.expires_at(deadline);
  auto [wec, written] = co_await asio::async_write(stream, asio::buffer(request.data(), request.size()), use_tuple);
  (void)written;
  if (wec) throw faults::fault_error(fmt::format("redis_flush: sending to {} failed: {}", flushed_at_, wec.message()));

  std::vector<std::string> replies;
  std::string current;
  reply_reader reader;
  std::vector<char> buffer(4096);
  while (replies.size() < commands.size()) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(buffer), use_tuple);
    if (rec)
      throw faults::fault_error(fmt::format("redis_flush: reading from {} failed after {} of {} replies: {}", flushed_at_, replies.size(),
                                            commands.size(), rec == boost::beast::error::timeout ? "timed out" : rec.message()));
    std::string_view data(buffer.data(), n);
    while (!data.empty()) {
      auto st = reader.feed(data, [&](std::string_view b) { current.append(b); });
      if (st == reply_reader::status::invalid) throw faults::fault_error(fmt::format("redis_flush: {} does not speak RESP", flushed_at_));
      if (st == reply_reader::status::reply) replies.push_back(std::exchange(current, std::string()));
      if (st == reply_reader::status::push) current.clear();
    }
  }
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].front() == '-')
      throw faults::fault_error(fmt::format("redis_flush: {} refused {}: {}{}", flushed_at_, commands[i].front(), line_of(replies[i]),
                                            commands[i].front() == "AUTH" ? " (check `password`)" : ""));
  }
  const std::size_t first = settings_.password.empty() ? 0 : 1;
  keys_before_ = integer_of(replies[first + 1]);
  flushed_ = replies[first + 2].rfind("+OK", 0) == 0;
  keys_after_ = integer_of(replies[first + 3]);
}

faults::evidence redis_flush::collect_evidence() const {
  faults::evidence e;
  e.observed = flushed_;
  if (!flushed_) {
    e.summary = fmt::format("redis_flush: database {} of {} was not flushed", settings_.database, flushed_at_.empty() ? address() : flushed_at_);
  } else {
    e.summary = fmt::format("redis_flush: FLUSHDB on database {} of {}: {} keys before, {} after", settings_.database, flushed_at_,
                            keys_before_ ? std::to_string(*keys_before_) : "?", keys_after_ ? std::to_string(*keys_after_) : "?");
  }
  e.details = {{"address", flushed_at_}, {"async", settings_.async}, {"database", settings_.database}, {"destructive", true},
               {"flushed", flushed_}};
  if (keys_before_) e.details["keys_before"] = *keys_before_;
  if (keys_after_) e.details["keys_after"] = *keys_after_;
  return e;
}

faults::fault_type redis_flush_type() {
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
      {"timeout", param_kind::duration, "how long connecting and the exchange may take", std::chrono::nanoseconds(std::chrono::seconds(5)),
       false, 1e6, 3600e9},
  };
  flush.create = [](const params& x, const faults::fault_context& ctx) {
    redis_flush_settings s;
    s.database = x.integer("database");
    s.password = x.text("password");
    s.async = x.flag("async");
    s.timeout = x.duration("timeout");
    return std::unique_ptr<faults::fault>(std::make_unique<redis_flush>(ctx, s));
  };
  return flush;
}

}  // namespace faultline::protocol::redis
