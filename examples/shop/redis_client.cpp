#include "examples/shop/redis_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <hiredis/hiredis.h>

namespace faultline::shop {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

redis_reply convert(const redisReply& r) {
  redis_reply out;
  switch (r.type) {
  case REDIS_REPLY_STRING: out.type = redis_reply::kind::string; break;
  case REDIS_REPLY_STATUS: out.type = redis_reply::kind::status; break;
  case REDIS_REPLY_ERROR: out.type = redis_reply::kind::error; break;
  case REDIS_REPLY_INTEGER: out.type = redis_reply::kind::integer; break;
  case REDIS_REPLY_ARRAY: out.type = redis_reply::kind::array; break;
  default: out.type = redis_reply::kind::nil; break;
  }
  if (r.str) out.text.assign(r.str, r.len);
  out.integer = r.integer;
  return out;
}

}  // namespace

redis_connection::redis_connection(asio::any_io_executor executor, tcp::endpoint endpoint)
    : socket_(std::move(executor)), endpoint_(std::move(endpoint)), reader_(redisReaderCreate()) {}

redis_connection::~redis_connection() {
  if (reader_) redisReaderFree(reader_);
}

asio::awaitable<std::string> redis_connection::connect() {
  if (!reader_) co_return "hiredis could not allocate a reader";
  auto [ec] = co_await socket_.async_connect(endpoint_, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return "connecting: " + ec.message();
  socket_.set_option(tcp::no_delay(true), ec);
  reusable_ = true;
  co_return std::string{};
}

asio::awaitable<redis_result> redis_connection::run(std::vector<redis_command> commands) {
  reusable_ = false;  // until every reply has been read
  std::string request;
  for (const auto& command : commands) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& word : command) {
      argv.push_back(word.data());
      lengths.push_back(word.size());
    }
    char* encoded = nullptr;
    const int length = redisFormatCommandArgv(&encoded, static_cast<int>(argv.size()), argv.data(), lengths.data());
    if (length < 0) co_return redis_result{false, {}, "hiredis could not encode a command"};
    request.append(encoded, static_cast<std::size_t>(length));
    redisFreeCommand(encoded);
  }
  if (auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(request), asio::as_tuple(asio::use_awaitable)); ec)
    co_return redis_result{false, {}, "sending: " + ec.message()};

  redis_result result{true, {}, {}};
  while (result.replies.size() < commands.size()) {
    void* parsed = nullptr;
    if (redisReaderGetReply(reader_, &parsed) != REDIS_OK)
      co_return redis_result{false, {}, std::string("protocol error: ") + reader_->errstr};
    if (parsed) {
      result.replies.push_back(convert(*static_cast<redisReply*>(parsed)));
      freeReplyObject(parsed);
      continue;
    }
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer_), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return redis_result{false, {}, "reading: " + ec.message()};
    redisReaderFeed(reader_, buffer_.data(), n);
  }
  reusable_ = true;
  co_return result;
}

bool redis_connection::idle_and_alive() { return reusable_ && idle_socket_open(socket_.native_handle()); }

redis_client::redis_client(asio::any_io_executor executor, tcp::endpoint endpoint, int pool_size)
    : pool_(std::make_shared<connection_pool<redis_connection>>(
          pool_size, [executor, endpoint] { return std::make_unique<redis_connection>(executor, endpoint); })) {}

asio::awaitable<redis_result> redis_client::run(std::vector<redis_command> commands) {
  auto got = co_await pool_->acquire();
  if (!got.connection) co_return redis_result{false, {}, got.error};
  redis_result result = co_await got.connection->run(std::move(commands));
  if (got.connection->reusable()) got.connection.keep();
  co_return result;
}

asio::awaitable<cache_read> redis_client::get(std::string key) {
  // (GCC 12 cannot keep a braced list alive across co_await: build the commands first.)
  std::vector<redis_command> commands{{"GET", std::move(key)}};
  redis_result r = co_await run(std::move(commands));
  if (!r.ok) co_return cache_read{cache_read::status::failed, {}, std::move(r.error)};
  redis_reply& reply = r.replies.front();
  switch (reply.type) {
  case redis_reply::kind::string: co_return cache_read{cache_read::status::hit, std::move(reply.text), {}};
  case redis_reply::kind::nil: co_return cache_read{cache_read::status::miss, {}, {}};
  case redis_reply::kind::error: co_return cache_read{cache_read::status::failed, {}, std::move(reply.text)};
  default: co_return cache_read{cache_read::status::failed, {}, "unexpected reply to GET"};
  }
}

asio::awaitable<std::string> redis_client::set(std::vector<cache_entry> entries) {
  std::vector<redis_command> commands;
  for (auto& e : entries)
    commands.push_back({"SET", std::move(e.key), std::move(e.value), "PX", std::to_string(e.ttl.count())});
  redis_result r = co_await run(std::move(commands));
  if (!r.ok) co_return r.error;
  for (const auto& reply : r.replies)
    if (reply.type != redis_reply::kind::status) co_return reply.text.empty() ? "unexpected reply to SET" : reply.text;
  co_return std::string{};
}

asio::awaitable<std::string> redis_client::ping() {
  std::vector<redis_command> commands{{"PING"}};
  redis_result r = co_await run(std::move(commands));
  if (!r.ok) co_return r.error;
  if (r.replies.front().type != redis_reply::kind::status) co_return "PING answered " + r.replies.front().text;
  co_return std::string{};
}

}  // namespace faultline::shop
