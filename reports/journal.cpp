#include "reports/journal.hpp"

#include "probes/timeline.hpp"
#include "reports/windows.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace faultline::reports {

using nlohmann::json;

namespace {

const json& required(const json& object, const std::string& path, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) throw json_field_error(fmt::format("missing field '{}.{}'", path, key));
  return *it;
}

// Version 1 wrote each series' windows out in full.
void read_stored_windows(const json& doc, journal& j) {
  for (std::size_t i = 0; i < j.series.size(); ++i) {
    const auto path = fmt::format("series[{}]", i);
    j.series[i].windows = from_json_value<std::vector<window_point>>(required(doc["series"][i], path, "windows"), path + ".windows");
  }
}

// Version 2 stores the windows once, in the Timeline: each series' windows are derived from it.
void derive_windows(const json& doc, journal& j) {
  if (j.series.empty()) return;
  std::optional<probes::timeline> timeline;
  try {
    timeline.emplace(j.timeline);
  } catch (const std::invalid_argument& e) {
    std::string_view why = e.what();
    if (why.starts_with("timeline: ")) why.remove_prefix(10);
    throw json_field_error(fmt::format("field 'timeline' is not a faultline Timeline: {}", why));
  }
  for (std::size_t i = 0; i < j.series.size(); ++i) {
    const auto path = fmt::format("series[{}]", i);
    const auto count = from_json_value<std::uint64_t>(required(doc["series"][i], path, "window_count"), path + ".window_count");
    j.series[i].windows = series_windows(*timeline, j.series[i].name, static_cast<std::int64_t>(count));
  }
}

}  // namespace

json to_json(const journal& j) {
  const auto* recorded = j.timeline.is_object() && j.timeline.contains("series") ? &j.timeline["series"] : nullptr;
  for (const auto& s : j.series)
    if (!s.windows.empty() && !(recorded && recorded->contains(s.name)))
      throw journal_error(fmt::format("series '{}' is not in the journal's timeline, where its windows are stored", s.name));
  json doc = write_json_fields(j);
  doc["schema_version"] = journal_schema_version;
  // The windows are in the timeline; a series says how many of them it spans.
  for (std::size_t i = 0; i < j.series.size(); ++i) doc["series"][i]["window_count"] = j.series[i].windows.size();
  return doc;
}

journal journal_from_json(const json& doc) {
  if (!doc.is_object()) throw journal_error(fmt::format("not a faultline journal: the document is {}, not an object", doc.type_name()));
  auto version = doc.find("schema_version");
  if (version == doc.end()) throw journal_error("not a faultline journal: it has no 'schema_version' field");
  if (!version->is_number_integer())
    throw journal_error(fmt::format("not a faultline journal: 'schema_version' is {}, not an integer", version->type_name()));
  const auto v = version->get<std::int64_t>();
  if (v < journal_oldest_schema_version || v > journal_schema_version)
    throw journal_error(fmt::format(
        "journal schema version {} is not supported: this faultline reads schema versions {} to {} "
        "(render it with the faultline release that wrote it, or run the experiment again)",
        v, journal_oldest_schema_version, journal_schema_version));

  journal j;
  try {
    read_json_fields(doc, "", j);
    if (v == 1) {
      read_stored_windows(doc, j);
    } else {
      derive_windows(doc, j);
    }
  } catch (const json_field_error& e) {
    throw journal_error(e.what());
  }
  j.schema_version = journal_schema_version;  // in memory a journal has no version: it is written as the current one
  return j;
}

void write_journal(const journal& j, const std::string& path) {
  // Written next to its final name and renamed, so a reader never sees half a journal.
  std::filesystem::path target(path);
  auto tmp = target;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw journal_error(fmt::format("{}: cannot write the journal: {}", path, std::strerror(errno)));
    // Invalid UTF-8 (say, in an action's output) is replaced rather than failing the run's record.
    out << to_json(j).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    out.flush();
    if (!out) throw journal_error(fmt::format("{}: cannot write the journal: {}", path, std::strerror(errno)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw journal_error(fmt::format("{}: cannot write the journal: {}", path, ec.message()));
  }
}

journal read_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw journal_error(fmt::format("{}: cannot read the journal: {}", path, std::strerror(errno)));
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw journal_error(fmt::format("{}: not a faultline journal: invalid JSON at byte {}", path, e.byte));
  } catch (const json::out_of_range&) {  // a number beyond a double's range, e.g. 1e400
    throw journal_error(fmt::format("{}: not a faultline journal: a number is too large for a double", path));
  }
  try {
    return journal_from_json(doc);
  } catch (const journal_error& e) {
    throw journal_error(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace faultline::reports
