// Protocol faults in experiments: bad settings are errors at their place, naming the fix.
#include "engine/config_error.hpp"
#include "tests/support/test_catalogue.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace faultline;

namespace {

std::vector<std::string> problems_of(const std::string& steps) {
  const std::string yaml = "version: 1\nname: t\nproxies:\n"
                           "  pg: { listen: 127.0.0.1:0, upstream: 127.0.0.1:5432, protocol: postgres }\n"
                           "  cache: { listen: 127.0.0.1:0, upstream: 127.0.0.1:6379, protocol: redis }\n"
                           "  plain: { listen: 127.0.0.1:0, upstream: 127.0.0.1:6379 }\n"
                           "timeline:\n  steps:\n" +
                           steps;
  try {
    engine::parse_experiment(yaml, "t.yaml", test::builtin_catalogue(), {});
  } catch (const engine::config_error& e) {
    std::vector<std::string> out;
    for (const auto& p : e.problems()) out.push_back(p.to_string());
    return out;
  }
  return {};
}

}  // namespace

TEST_CASE("protocol fault steps are checked where they are written", "[faults][protocol]") {
  struct bad {
    std::string step;
    std::string error;
  };
  const std::vector<bad> table{
      {"    - { at: 0s, for: 5s, fault: pg_delay, target: pg, delay: 1s, match: 'a(b' }\n",
       "t.yaml:9:73: timeline.steps[0].match: 'a(b' is not a valid regular expression: unmatched ( or ) at position 3 ('a(b' <-- here); "
       "escape special characters with \\"},
      {"    - { at: 0s, for: 5s, fault: pg_delay, target: pg, delay: 1s, statements: [selekt] }\n",
       "t.yaml:9:78: timeline.steps[0].statements: unknown statement class 'selekt' (known: select, insert, update, delete, ddl, "
       "transaction, copy, other)"},
      {"    - { at: 0s, for: 5s, fault: pg_delay, target: pg, delay: 100ms, jitter: 200ms }\n",
       "t.yaml:9:77: timeline.steps[0].jitter: jitter is larger than the delay: delays would be cut off at 0; make jitter at most the delay"},
      {"    - { at: 0s, for: 5s, fault: pg_error, target: pg, sqlstate: '4001' }\n",
       "t.yaml:9:65: timeline.steps[0].sqlstate: '4001' is not a SQLSTATE: it takes five digits or upper-case letters, e.g. 40001 "
       "(serialization_failure) or 57014 (query_canceled)"},
      {"    - { at: 0s, for: 5s, fault: pg_delay, target: cache, delay: 1s }\n",
       "t.yaml:9:51: timeline.steps[0].target: 'pg_delay' needs a proxy with protocol: postgres, but 'cache' has protocol: redis"},
      {"    - { at: 0s, for: 5s, fault: redis_miss, target: plain }\n",
       "t.yaml:9:53: timeline.steps[0].target: 'redis_miss' needs a proxy with protocol: redis, but 'plain' has protocol: tcp"},
      {"    - { at: 0s, for: 5s, fault: redis_miss, target: cache, commands: [SET] }\n",
       "t.yaml:9:70: timeline.steps[0].commands: redis_miss answers reads only; 'SET' is not one of EXISTS, GET, GETRANGE, HEXISTS, "
       "HGET, HGETALL, HKEYS, HLEN, HMGET, HVALS, LINDEX, LLEN, LRANGE, MGET, PTTL, SCARD, SISMEMBER, SMEMBERS, STRLEN, TTL, TYPE, "
       "ZCARD, ZRANGE, ZSCORE"},
      {"    - { at: 0s, for: 5s, fault: redis_error, target: cache, error: custom }\n",
       "t.yaml:9:7: timeline.steps[0].message: error: custom needs a message, the error line without '-', e.g. 'ERR backend unavailable'"},
      {"    - { at: 0s, action: redis_flush, target: cache }\n",
       "t.yaml:9:25: timeline.steps[0].action: 'redis_flush' destroys data; add 'destructive: true' to this step to confirm"},
  };
  for (const auto& b : table) {
    INFO(b.step);
    auto problems = problems_of(b.step);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == b.error);
  }
  CHECK(problems_of("    - { at: 0s, for: 5s, fault: redis_error, target: cache, error: custom, message: 'ERR x', probability: 10% }\n")
            .empty());
  CHECK(problems_of("    - { at: 0s, action: redis_flush, target: cache, destructive: true }\n").empty());
}
