#include "probes/redis_probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
extern "C" {
#include <hiredis/sds.h>  // no extern "C" of its own in hiredis 0.14 (hiredis.h includes it too)
}
#include <hiredis/hiredis.h>

#include <array>
#include <charconv>
#include <memory>

namespace faultline::probes {
namespace asio = boost::asio;

namespace {

struct reader_free {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};
struct reply_free {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

std::string reply_text(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR: return std::string(r.str, r.len);
    case REDIS_REPLY_INTEGER: return std::to_string(r.integer);
    case REDIS_REPLY_NIL: return "(nil)";
    default: return "(array of " + std::to_string(r.elements) + ")";
  }
}

std::optional<double> reply_value(const redisReply& r) {
  if (r.type == REDIS_REPLY_INTEGER) return static_cast<double>(r.integer);
  if (r.type != REDIS_REPLY_STRING && r.type != REDIS_REPLY_STATUS) return std::nullopt;
  double v = 0;
  const char* end = r.str + r.len;
  auto [ptr, ec] = std::from_chars(r.str, end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

}  // namespace

std::vector<std::string> split_redis_command(std::string_view line) {
  const std::string text(line);
  int argc = 0;
  sds* argv = sdssplitargs(text.c_str(), &argc);
  if (!argv) throw std::invalid_argument("unbalanced quotes in '" + text + "'");
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) out.emplace_back(argv[i], sdslen(argv[i]));
  sdsfreesplitres(argv, argc);
  if (out.empty()) throw std::invalid_argument("the command is empty");
  return out;
}

redis_probe_config redis_probe_config::from(const params& p) {
  redis_probe_config c;
  try {
    c.address = parse_address(p.text("address"));
  } catch (const std::invalid_argument& e) {
    throw param_error("address", e.what());
  }
  try {
    c.command = split_redis_command(p.maybe<std::string>("command").value_or("PING"));
  } catch (const std::invalid_argument& e) {
    throw param_error("command", std::string("bad Redis command: ") + e.what() + " (write it as for redis-cli, e.g. GET \"my key\")");
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : c.command) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* resp = nullptr;
  const int n = redisFormatCommandArgv(&resp, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (n < 0 || !resp) throw param_error("command", "cannot encode the Redis command");
  c.request.assign(resp, static_cast<std::size_t>(n));
  redisFreeCommand(resp);
  c.expect = p.maybe<std::string>("expect");
  c.timeout = p.duration("timeout");
  return c;
}

void redis_probe::close() {
  boost::system::error_code ignored;
  stream_.socket().close(ignored);
  connected_ = false;
}

asio::awaitable<sample> redis_probe::check(clock::time_point intended) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  const auto started = clock::now();
  const auto deadline = started + config_->timeout;
  if (!connected_) {
    if (const auto ec = co_await connect_before(stream_, config_->address, deadline)) {
      close();
      co_return finished(intended, started, outcome_of(ec));
    }
    connected_ = true;
  }
  stream_.expires_at(deadline);
  auto [wec, written] = co_await asio::async_write(stream_, asio::buffer(config_->request), use_tuple);
  if (wec) {
    close();
    co_return finished(intended, started, outcome_of(wec));
  }
  std::unique_ptr<redisReader, reader_free> reader(redisReaderCreate());
  std::array<char, 4096> buf{};
  for (;;) {
    auto [rec, n] = co_await stream_.async_read_some(asio::buffer(buf), use_tuple);
    if (rec) {
      close();
      co_return finished(intended, started, rec == asio::error::eof ? outcome::reset : outcome_of(rec));
    }
    if (redisReaderFeed(reader.get(), buf.data(), n) != REDIS_OK) break;
    void* raw = nullptr;
    if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK) break;
    if (!raw) continue;
    std::unique_ptr<redisReply, reply_free> reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) co_return finished(intended, started, outcome::protocol_error);
    auto result = outcome::ok;
    if (config_->expect && reply_text(*reply) != *config_->expect) result = outcome::unexpected_value;
    co_return finished(intended, started, result, reply_value(*reply));
  }
  close();  // the bytes were not RESP
  co_return finished(intended, started, outcome::protocol_error);
}

}  // namespace faultline::probes
