#include "engine/recovery.hpp"
#include "engine/state_file.hpp"
#include "faults/fault.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace faultline;

namespace {

std::filesystem::path fresh_state_path(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-state-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::filesystem::remove(path);
  return path;
}

engine::undo_entry entry(std::string step, std::int64_t pid, std::uint64_t start, nlohmann::json record) {
  engine::undo_entry e;
  e.run_id = "run-1";
  e.pid = pid;
  e.pid_start_time = start;
  e.experiment = "x";
  e.step = std::move(step);
  e.type = "marker";
  e.record = std::move(record);
  return e;
}

}  // namespace

TEST_CASE("the state file records and forgets undo entries", "[engine]") {
  engine::state_file state(fresh_state_path("records.json"));
  CHECK(state.entries().empty());
  state.add(entry("a", 1, 1, {{"k", 1}}));
  state.add(entry("b", 1, 1, {{"k", 2}}));
  state.add(entry("a", 1, 1, {{"k", 3}}));  // the same step replaces its entry
  auto entries = state.entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[1].step == "a");
  CHECK(entries[1].record["k"] == 3);
  state.remove("run-1", "a");
  REQUIRE(state.entries().size() == 1);
  CHECK(state.entries()[0].step == "b");
}

TEST_CASE("recovery undoes entries of dead runs and keeps what it cannot undo", "[engine]") {
  std::vector<int> undone;
  faults::fault_registry registry;
  faults::fault_type marker;
  marker.name = "marker";
  marker.undo = [&](const nlohmann::json& record) {
    if (record.at("fail").get<bool>()) throw faults::fault_error("device is gone");
    undone.push_back(record.at("id").get<int>());
  };
  registry.add(marker);

  engine::state_file state(fresh_state_path("recover.json"));
  const auto self = static_cast<std::int64_t>(::getpid());
  state.add(entry("dead", self, 1, {{"id", 1}, {"fail", false}}));  // same pid, other start time: pid reused
  state.add(entry("alive", self, engine::process_start_time(self), {{"id", 2}, {"fail", false}}));
  state.add(entry("broken", 999999999, 1, {{"id", 3}, {"fail", true}}));

  auto outcome = engine::recover_leftovers(state, registry, false);
  CHECK(undone == std::vector<int>{1});
  CHECK(outcome.undone.size() == 1);
  REQUIRE(outcome.skipped.size() == 1);
  CHECK_THAT(outcome.skipped[0], Catch::Contains("still going"));
  REQUIRE(outcome.failed.size() == 1);
  CHECK_THAT(outcome.failed[0], Catch::Contains("device is gone"));
  CHECK(state.entries().size() == 2);

  auto forced = engine::recover_leftovers(state, registry, true);
  CHECK(undone == std::vector<int>{1, 2});
  CHECK(forced.failed.size() == 1);
  REQUIRE(state.entries().size() == 1);
  CHECK(state.entries()[0].step == "broken");
}

// Found by tests/fuzz/state_file_fuzz.cpp: "pid_start_time": 1.2e23 was converted to an integer
// (undefined behaviour). Numbers that do not fit are a state_file_error naming the field.
TEST_CASE("a state file entry with a pid or start time out of range is refused, not converted", "[engine]") {
  struct bad_entry {
    const char* fields;
    const char* message;
  };
  const bad_entry table[] = {
      {R"("pid": 1, "pid_start_time": 123456444444444444444444)", "'pid_start_time' must be a whole number from 0 to 18446744073709551615"},
      {R"("pid": 1, "pid_start_time": -1)", "'pid_start_time' must be a whole number from 0"},
      {R"("pid": 1.5)", "'pid' must be a whole number from -9223372036854775808 to 9223372036854775807, not 1.5"},
      {R"("pid": 9223372036854775808)", "'pid' must be a whole number"},
      {R"("pid": "12")", "'pid' must be a whole number"},
      {R"("run_id": "r")", "missing 'pid'"},
  };
  for (const auto& bad : table) {
    auto path = fresh_state_path("out-of-range.json");
    {
      std::ofstream out(path);
      out << R"({"version": 1, "entries": [{"run_id": "r", "step": "s", "type": "t", "record": {}, )" << bad.fields << "}]}";
    }
    INFO(bad.fields);
    CHECK_THROWS_AS(engine::state_file(path).entries(), engine::state_file_error);
    CHECK_THROWS_WITH(engine::state_file(path).entries(), Catch::Contains("entry 1: ") && Catch::Contains(bad.message));
  }
  auto path = fresh_state_path("in-range.json");
  {
    std::ofstream out(path);
    out << R"({"version": 1, "entries": [{"run_id": "r", "pid": -1, "pid_start_time": 18446744073709551615, "step": "s", "type": "t", "record": {}}]})";
  }
  auto entries = engine::state_file(path).entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].pid == -1);
  CHECK(entries[0].pid_start_time == 18446744073709551615u);
}
