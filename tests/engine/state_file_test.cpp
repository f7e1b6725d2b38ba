#include "engine/recovery.hpp"
#include "engine/state_file.hpp"
#include "faults/fault.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>

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
