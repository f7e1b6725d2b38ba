// The sample log: compact storage, intended order, and its JSON form.

#include "probes/sample_log.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace faultline::probes;
using namespace std::chrono_literals;

TEST_CASE("sample log: keeps each sample to the microsecond, sorted by intended start", "[probes]") {
  sample_log log;
  CHECK(log.empty());
  log.add(2500us, 300ms, outcome::ok, true, std::nullopt);
  log.add(1000us, 1234567ns, outcome::timeout, false, std::nullopt);
  log.add(2500us, 1ms, outcome::http_5xx, false, std::nullopt);  // same start: kept after the first
  log.add(-5ms, 1ms, outcome::ok, false, std::nullopt);           // before the start: at 0
  CHECK_FALSE(log.sorted());
  log.sort();
  REQUIRE(log.size() == 4);
  CHECK(log[0].intended == 0ns);
  CHECK(log[1] == logged_sample{1ms, 1234us, outcome::timeout, false, std::nullopt});
  CHECK(log[2] == logged_sample{2500us, 300ms, outcome::ok, true, std::nullopt});
  CHECK(log[3].result == outcome::http_5xx);
  CHECK(log[2].completed() == 302500us);
  CHECK_FALSE(log.has_values());
  CHECK(log.bytes() < 1000);
}

TEST_CASE("sample log: values, long latencies and runs longer than an epoch", "[probes]") {
  sample_log log;
  log.add(0s, 1ms, outcome::ok, false, std::nullopt);
  log.add(1s, 1ms, outcome::ok, false, 2.0);
  log.add(2s, 1ms, outcome::ok, false, NAN);  // not a value JSON can hold: none
  log.add(3s, 10min, outcome::timeout, false, std::nullopt);
  log.add(5h, 1ms, outcome::ok, false, 7.5);  // past 2^32 microseconds
  log.add(4s, 1ms, outcome::ok, false, 1.0);
  log.sort();
  const auto all = log.all();
  REQUIRE(all.size() == 6);
  CHECK(all[1].value == 2.0);
  CHECK_FALSE(all[2].value);
  CHECK(all[3].latency == sample_log::max_latency);  // saturated at about 134 s
  CHECK(all[4].intended == 4s);
  CHECK(all[4].value == 1.0);
  CHECK(all[5].intended == 5h);
  CHECK(all[5].value == 7.5);
  CHECK(log.has_values());
}

TEST_CASE("sample log: the JSON form reads back to the same samples", "[probes]") {
  sample_log log;
  for (int i = 0; i < 1000; ++i)
    log.add(std::chrono::microseconds(1000 * i + (i * 7919) % 500), std::chrono::microseconds(200 + (i * 104729) % 900000),
            static_cast<outcome>(i % outcome_count), i % 3 == 0, std::nullopt);
  const auto j = log.to_json();  // sorts a copy
  CHECK(j.at("count") == 1000);
  CHECK_FALSE(j.contains("values"));
  // These starts jitter and latencies reach 900 ms: under 6 bytes per sample before base64.
  CHECK(j.at("data").get<std::string>().size() < 1000 * 6 * 4 / 3 + 4);
  // A steady rate and latencies under 16 ms take 3 bytes.
  sample_log steady;
  for (int i = 0; i < 1000; ++i) steady.add(std::chrono::milliseconds(i), 1500us, outcome::ok, false, std::nullopt);
  CHECK(steady.to_json().at("data").get<std::string>().size() <= 1000 * 3 * 4 / 3 + 4);
  auto sorted = log;
  sorted.sort();
  CHECK(sample_log::from_json(j) == sorted);

  sample_log probe;
  probe.add(0s, 1ms, outcome::ok, false, 0.0);
  probe.add(200ms, 1s, outcome::timeout, false, std::nullopt);
  probe.add(400ms, 1ms, outcome::ok, false, 1e12);
  const auto pj = probe.to_json();
  CHECK(pj.at("values") == nlohmann::json::parse("[0.0, null, 1e12]"));
  CHECK(sample_log::from_json(pj) == probe);
  CHECK(sample_log::from_json(sample_log{}.to_json()).empty());
}

TEST_CASE("sample log: a damaged JSON form is refused, naming what is wrong", "[probes]") {
  const auto bad = [](const char* text) {
    try {
      sample_log::from_json(nlohmann::json::parse(text));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(bad(R"({"data": ""})") == "samples: 'count' must be a non-negative integer");
  CHECK(bad(R"({"count": 1, "data": "AA"})") == "samples: 'data': base64: the length is not a multiple of 4");
  CHECK(bad(R"({"count": 1, "data": "AA=="})") == "samples: 'data' ends in the middle of a number");
  CHECK(bad(R"({"count": 0, "data": "AA=="})") == "samples: 'data' holds more than 'count' samples");
  CHECK(bad(R"({"count": 1, "data": "CAA="})") == "samples: sample 0 has an unknown outcome");
  CHECK(bad(R"({"count": 1, "data": "IAA="})") == "samples: sample 0 has an intended time out of order or out of range");
  CHECK(bad(R"({"count": 1, "data": "AAA=", "values": []})") == "samples: 'values' must be an array of 'count' numbers or nulls");
}

TEST_CASE("base64 round trip", "[probes]") {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x80", 3)})
    CHECK(base64_decode(base64_encode(s)) == s);
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK_THROWS_AS(base64_decode("Zm9v!mFy"), std::invalid_argument);
}
