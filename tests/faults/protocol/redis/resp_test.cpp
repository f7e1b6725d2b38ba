// The RESP readers: commands and replies parse the same whether they arrive whole, split at any
// byte, or one byte at a time; malformed input is reported, never read out of bounds.
#include "faults/protocol/message_toxic.hpp"
#include "faults/protocol/redis/redis_toxics.hpp"
#include "faults/protocol/redis/resp.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace faultline::protocol::redis;
using namespace std::string_literals;

namespace {

struct parsed_command {
  std::vector<std::string> args;
  std::string raw;
  bool operator==(const parsed_command&) const = default;
};

// Feeds `pieces` one after another; returns the commands read (or stops at invalid).
std::vector<parsed_command> commands_of(const std::vector<std::string>& pieces, bool* invalid = nullptr) {
  std::vector<parsed_command> out;
  command_reader r;
  auto sink = [](std::string_view) { FAIL("nothing is released"); };
  for (const auto& piece : pieces) {
    std::string_view data(piece);
    while (!data.empty()) {
      auto st = r.feed(data, sink);
      if (st == command_reader::status::more) break;
      if (st == command_reader::status::invalid) {
        if (invalid) *invalid = true;
        return out;
      }
      REQUIRE(st == command_reader::status::done);
      out.push_back({r.args(), std::string(r.raw().begin(), r.raw().end())});
      r.reset();
    }
  }
  return out;
}

struct parsed_reply {
  char type;
  bool push;
  std::string bytes;
  bool operator==(const parsed_reply&) const = default;
};

std::vector<parsed_reply> replies_of(const std::vector<std::string>& pieces, bool* invalid = nullptr) {
  std::vector<parsed_reply> out;
  reply_reader r;
  std::string current;
  auto sink = [&](std::string_view b) { current.append(b); };
  for (const auto& piece : pieces) {
    std::string_view data(piece);
    while (!data.empty()) {
      auto st = r.feed(data, sink);
      if (st == reply_reader::status::more) break;
      if (st == reply_reader::status::invalid) {
        if (invalid) *invalid = true;
        return out;
      }
      out.push_back({r.type(), st == reply_reader::status::push, std::exchange(current, std::string())});
    }
  }
  return out;
}

std::vector<std::string> split_at(const std::string& s, std::size_t at) { return {s.substr(0, at), s.substr(at)}; }
std::vector<std::string> bytes_of(const std::string& s) {
  std::vector<std::string> out;
  for (char c : s) out.emplace_back(1, c);
  return out;
}

const std::string pipeline =
    "*2\r\n$3\r\nGET\r\n$5\r\nuser1\r\n"
    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$11\r\nbin\r\na\0ry!!\r\n"
    "PING\r\n"
    "\r\n"
    "set \"quoted key\" 'it\\'s' \"\\x41\\n\"\n"
    "*0\r\n"
    "*1\r\n$0\r\n\r\n"
    "*4\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"s;

}  // namespace

TEST_CASE("a command pipeline parses the same at every split and one byte at a time", "[faults][protocol]") {
  const std::string& input = pipeline;
  auto whole = commands_of({input});
  REQUIRE(whole.size() == 8);
  CHECK(whole[0].args == std::vector<std::string>{"GET", "user1"});
  CHECK(whole[1].args == std::vector<std::string>{"SET", "k", std::string("bin\r\na\0ry!!", 11)});
  CHECK(whole[2].args == std::vector<std::string>{"PING"});
  CHECK(whole[3].args.empty());  // a blank inline line: Redis skips it
  CHECK(whole[4].args == std::vector<std::string>{"set", "quoted key", "it's", "A\n"});
  CHECK(whole[5].args.empty());      // *0
  CHECK(whole[6].args == std::vector<std::string>{""});
  CHECK(whole[7].args == std::vector<std::string>{"MGET", "a", "b", "c"});
  std::string raw;
  for (const auto& c : whole) raw += c.raw;
  CHECK(raw == input);  // every byte belongs to exactly one command
  for (std::size_t at = 0; at <= input.size(); ++at) {
    INFO("split at " << at);
    CHECK(commands_of(split_at(input, at)) == whole);
  }
  CHECK(commands_of(bytes_of(input)) == whole);
}

TEST_CASE("inline commands split as Redis splits them", "[faults][protocol]") {
  CHECK(split_inline("set \"quoted key\" \"\\x41\\n\"") == std::vector<std::string>{"set", "quoted key", "A\n"});
  CHECK(split_inline("get 'it\\'s'") == std::vector<std::string>{"get", "it's"});
  CHECK(split_inline("  ping  ") == std::vector<std::string>{"ping"});
  CHECK_FALSE(split_inline("get \"open"));
  CHECK_FALSE(split_inline("get \"a\"b"));  // a closing quote must end the argument
  CHECK(split_inline("")->empty());
}

TEST_CASE("malformed commands are reported, not followed", "[faults][protocol]") {
  for (std::string bad : std::vector<std::string>{"*2\r\n:3\r\nGET\r\n", "*x\r\n", "*1\r\n$-5\r\n", "*1\r\n$99999999999\r\n", "*2000000\r\n",
                          "get \"unbalanced\r\n", std::string(70000, 'a')}) {
    INFO(bad.substr(0, 40));
    bool invalid = false;
    commands_of({bad}, &invalid);
    CHECK(invalid);
  }
}

TEST_CASE("a long argument is released to the sink once the retain limit is reached", "[faults][protocol]") {
  command_reader r(64);
  std::string value(1000, 'v');
  std::string input = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$1000\r\n" + value + "\r\n";
  std::string released;
  auto sink = [&](std::string_view b) { released.append(b); };
  std::string_view data(input);
  auto st = r.feed(data, sink);
  REQUIRE(st == command_reader::status::limit);
  CHECK(r.args() == std::vector<std::string>{"SET", "key"});  // enough to decide
  std::string kept(r.raw().begin(), r.raw().end());
  r.release();
  while (!data.empty()) st = r.feed(data, sink);
  CHECK(st == command_reader::status::done);
  CHECK(kept + released == input);
  CHECK(r.args().size() == 3);
}

TEST_CASE("replies of RESP2 and RESP3 end where they should, at every split", "[faults][protocol]") {
  const std::string input =
      "+OK\r\n"
      "-ERR unknown\r\n"
      ":42\r\n"
      "$5\r\nhe\r\nl\r\n"
      "$-1\r\n"
      "*-1\r\n"
      "*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n*0\r\n"
      "%2\r\n+k1\r\n:1\r\n+k2\r\n~1\r\n,3.14\r\n"
      ">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n"
      "|1\r\n+ttl\r\n:10\r\n$3\r\nval\r\n"
      "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n"
      "_\r\n#t\r\n(123456789012345678901234567890\r\n!3\r\nerr\r\n=7\r\ntxt:abc\r\n";
  auto whole = replies_of({input});
  REQUIRE(whole.size() == 16);
  CHECK(whole[3].bytes == "$5\r\nhe\r\nl\r\n");
  CHECK(whole[6].bytes == "*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n*0\r\n");
  CHECK(whole[7].type == '%');
  CHECK(whole[8].push);
  CHECK(whole[9].type == '$');  // the attribute belongs to the value after it
  CHECK(whole[9].bytes == "|1\r\n+ttl\r\n:10\r\n$3\r\nval\r\n");
  CHECK(whole[10].bytes == "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n");
  for (std::size_t at = 0; at <= input.size(); ++at) {
    INFO("split at " << at);
    CHECK(replies_of(split_at(input, at)) == whole);
  }
  CHECK(replies_of(bytes_of(input)) == whole);
}

TEST_CASE("malformed replies are reported", "[faults][protocol]") {
  for (std::string bad : std::vector<std::string>{"\r\n", "?\r\n", "$abc\r\n", "*2\n", "$?\r\n", "*1\r\n>1\r\n+x\r\n", "%-1\r\n"}) {
    INFO(bad);
    bool invalid = false;
    replies_of({bad}, &invalid);
    CHECK(invalid);
  }
}

TEST_CASE("glob patterns match keys as Redis matches them", "[faults][protocol]") {
  CHECK(glob_match("session:*", "session:42"));
  CHECK_FALSE(glob_match("session:*", "user:42"));
  CHECK(glob_match("h?llo", "hello"));
  CHECK(glob_match("h[ae]llo", "hallo"));
  CHECK_FALSE(glob_match("h[^e]llo", "hello"));
  CHECK(glob_match("h[a-b]llo", "hbllo"));
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("a\\*b", "axb"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
  CHECK(glob_match(std::string(50, '*') + "x", std::string(10000, 'a') + "x"));  // no exponential backtracking
}

TEST_CASE("misses look like reads of keys that do not exist", "[faults][protocol]") {
  auto text = [](faultline::proxy::byte_buffer b) { return std::string(b.begin(), b.end()); };
  CHECK(text(miss_reply({"get", "k"}, 2)) == "$-1\r\n");
  CHECK(text(miss_reply({"GET", "k"}, 3)) == "_\r\n");
  CHECK(text(miss_reply({"MGET", "a", "b"}, 2)) == "*2\r\n$-1\r\n$-1\r\n");
  CHECK(text(miss_reply({"HMGET", "h", "f1", "f2", "f3"}, 2)) == "*3\r\n$-1\r\n$-1\r\n$-1\r\n");
  CHECK(text(miss_reply({"HGETALL", "h"}, 2)) == "*0\r\n");
  CHECK(text(miss_reply({"HGETALL", "h"}, 3)) == "%0\r\n");
  CHECK(text(miss_reply({"EXISTS", "a", "b"}, 2)) == ":0\r\n");
  CHECK(text(miss_reply({"TTL", "a"}, 2)) == ":-2\r\n");
  CHECK(text(miss_reply({"TYPE", "a"}, 2)) == "+none\r\n");
  CHECK(text(miss_reply({"GET"}, 2)).empty());            // wrong arity: the server's error goes through
  CHECK(text(miss_reply({"GET", "a", "b"}, 2)).empty());
  CHECK(text(miss_reply({"SET", "a", "b"}, 2)).empty());  // not a read
}

TEST_CASE("commands match on name and on every key", "[faults][protocol]") {
  command_match m({"get", "MGET"}, "cache:*");
  CHECK(m.matches({"GET", "cache:1"}));
  CHECK(m.matches({"get", "cache:1"}));
  CHECK_FALSE(m.matches({"GET", "db:1"}));
  CHECK(m.matches({"MGET", "cache:1", "cache:2"}));
  CHECK_FALSE(m.matches({"MGET", "cache:1", "db:2"}));
  CHECK_FALSE(m.matches({"SET", "cache:1", "v"}));
  command_match any({}, "");
  CHECK(any.matches({"PING"}));
  command_match keyed({}, "*");
  CHECK_FALSE(keyed.matches({"PING"}));  // a key pattern needs a key
  CHECK(key_positions({"MSET", "a", "1", "b", "2"}) == std::vector<std::size_t>{1, 3});
  CHECK(key_positions({"EVAL", "return 1", "2", "k1", "k2", "arg"}) == std::vector<std::size_t>{3, 4});
  CHECK(key_positions({"BLPOP", "a", "b", "0"}) == std::vector<std::size_t>{1, 2});
}

TEST_CASE("redis toxic settings are checked", "[faults][protocol]") {
  using faultline::param_error;
  CHECK_THROWS_AS(redis_miss_toxic(command_match({"SET"}, "")), param_error);
  CHECK_THROWS_WITH(redis_error_toxic(command_match({}, ""), "custom", ""), Catch::Contains("custom needs a message"));
  CHECK_THROWS_WITH(redis_error_toxic(command_match({}, ""), "NOPE", ""), Catch::Contains("known: LOADING, BUSY, OOM, READONLY, MASTERDOWN"));
  CHECK(redis_error_toxic(command_match({}, ""), "busy", "").line().rfind("BUSY Redis is busy", 0) == 0);
  CHECK(redis_error_toxic(command_match({}, ""), "OOM", "OOM nope").line() == "OOM nope");
  CHECK_THROWS_AS(redis_error_toxic(command_match({}, ""), "custom", "a\r\nb"), param_error);
  CHECK_THROWS_AS(redis_outage_toxic("drop"), param_error);
}
