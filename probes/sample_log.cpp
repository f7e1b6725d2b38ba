#include "probes/sample_log.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace faultline::probes {
namespace {

constexpr std::uint32_t outcome_bits = 4;
constexpr std::uint32_t fallback_bit = 1u << outcome_bits;
constexpr std::uint32_t latency_shift = outcome_bits + 1;

std::int64_t to_us(std::chrono::nanoseconds d) { return d.count() / 1000; }

std::uint32_t pack(std::chrono::nanoseconds latency, outcome result, bool fallback) {
  const auto us = std::clamp<std::int64_t>(to_us(latency), 0, sample_log::max_latency.count());
  return static_cast<std::uint32_t>(us) << latency_shift | (fallback ? fallback_bit : 0u) |
         static_cast<std::uint32_t>(result);
}

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument("samples: " + what); }

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t get_varint(const std::string& in, std::size_t& pos) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) bad("'data' ends in the middle of a number");
    const auto byte = static_cast<unsigned char>(in[pos++]);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return v;
  }
  bad("'data' holds a number longer than 64 bits");
}

std::uint64_t zigzag(std::int64_t v) { return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63); }
std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

// ---- base64 ---------------------------------------------------------------------------------

std::string base64_encode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(base64_alphabet[n >> s & 63]);
  }
  if (const auto rest = bytes.size() - i; rest > 0) {
    const std::uint32_t n = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out.push_back(base64_alphabet[n >> 18 & 63]);
    out.push_back(base64_alphabet[n >> 12 & 63]);
    out.push_back(rest == 2 ? base64_alphabet[n >> 6 & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string base64_decode(const std::string& text) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    for (int k = 0; k < 64; ++k) t[static_cast<unsigned char>(base64_alphabet[k])] = k;
    return t;
  }();
  if (text.size() % 4 != 0) throw std::invalid_argument("base64: the length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t n = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      if (pad > 0 || table[c] < 0) throw std::invalid_argument("base64: invalid character at " + std::to_string(i + k));
      n = n << 6 | static_cast<std::uint32_t>(table[c]);
    }
    out.push_back(static_cast<char>(n >> 16 & 0xff));
    if (pad < 2) out.push_back(static_cast<char>(n >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

// ---- sample_log -----------------------------------------------------------------------------

sample_log::samples& sample_log::own() {
  if (!data_) data_ = std::make_shared<samples>();
  else if (data_.use_count() > 1) data_ = std::make_shared<samples>(*data_);
  return *data_;
}

void sample_log::add(std::chrono::nanoseconds intended, std::chrono::nanoseconds latency, outcome result, bool fallback,
                     std::optional<double> value) {
  auto& d = own();
  const std::int64_t us = std::max<std::int64_t>(0, to_us(intended));
  const auto index = static_cast<std::size_t>(us >> 32);
  if (d.epochs.size() <= index) d.epochs.resize(index + 1);
  auto& e = d.epochs[index];
  if (us < d.last_us) d.sorted = false;
  d.last_us = std::max(d.last_us, us);
  e.entries.push_back({static_cast<std::uint32_t>(us & 0xffffffff), pack(latency, result, fallback)});
  const bool has_value = value && std::isfinite(*value);
  constexpr double none = std::numeric_limits<double>::quiet_NaN();
  if (has_value && e.values.empty()) e.values.assign(e.entries.size() - 1, none);
  if (has_value || !e.values.empty()) e.values.push_back(has_value ? *value : none);
  ++d.size;
}

bool sample_log::has_values() const {
  return data_ && std::any_of(data_->epochs.begin(), data_->epochs.end(), [](const epoch& e) { return !e.values.empty(); });
}

std::size_t sample_log::bytes() const {
  std::size_t n = sizeof(*this);
  if (!data_) return n;
  n += sizeof(samples) + data_->epochs.capacity() * sizeof(epoch);
  for (const auto& e : data_->epochs) n += e.entries.capacity() * sizeof(entry) + e.values.capacity() * sizeof(double);
  return n;
}

void sample_log::sort() {
  if (sorted()) return;
  auto& d = own();
  const auto by_time = [](const entry& a, const entry& b) { return a.intended_us < b.intended_us; };
  for (auto& e : d.epochs) {
    if (e.values.empty()) {
      std::stable_sort(e.entries.begin(), e.entries.end(), by_time);
      continue;
    }
    std::vector<std::uint32_t> order(e.entries.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return by_time(e.entries[a], e.entries[b]); });
    std::vector<entry> entries(order.size());
    std::vector<double> values(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      entries[k] = e.entries[order[k]];
      values[k] = e.values[order[k]];
    }
    e.entries = std::move(entries);
    e.values = std::move(values);
  }
  d.sorted = true;
}

logged_sample sample_log::operator[](std::size_t i) const {
  const auto& epochs = data_->epochs;
  std::size_t epoch_index = 0;
  while (i >= epochs[epoch_index].entries.size()) i -= epochs[epoch_index++].entries.size();
  const auto& e = epochs[epoch_index];
  const auto& n = e.entries[i];
  logged_sample s;
  s.intended = std::chrono::microseconds((static_cast<std::int64_t>(epoch_index) << 32) + n.intended_us);
  s.latency = std::chrono::microseconds(n.packed >> latency_shift);
  s.result = static_cast<outcome>(n.packed & (fallback_bit - 1));
  s.fallback = (n.packed & fallback_bit) != 0;
  if (!e.values.empty() && !std::isnan(e.values[i])) s.value = e.values[i];
  return s;
}

std::vector<logged_sample> sample_log::all() const {
  std::vector<logged_sample> out;
  out.reserve(size());
  for (std::size_t i = 0; i < size(); ++i) out.push_back((*this)[i]);
  return out;
}

nlohmann::json sample_log::to_json() const {
  if (!sorted()) {
    auto copy = *this;
    copy.sort();
    return copy.to_json();
  }
  std::string data;
  data.reserve(size() * 4);
  std::int64_t previous = 0, previous_delta = 0;
  nlohmann::json values = nlohmann::json::array();
  const bool with_values = has_values();
  static const std::vector<epoch> no_epochs;
  const auto& epochs = data_ ? data_->epochs : no_epochs;
  for (std::size_t k = 0; k < epochs.size(); ++k) {
    const auto& e = epochs[k];
    for (std::size_t i = 0; i < e.entries.size(); ++i) {
      // The change in the gap between intended starts (0 for a steady rate) with the outcome and
      // fallback bits, then the latency: 3 bytes for most samples.
      const std::int64_t us = (static_cast<std::int64_t>(k) << 32) + e.entries[i].intended_us;
      const std::int64_t delta = us - previous;
      const auto flags = e.entries[i].packed & (fallback_bit | (fallback_bit - 1));
      put_varint(data, zigzag(delta - previous_delta) << latency_shift | flags);
      put_varint(data, e.entries[i].packed >> latency_shift);
      previous = us;
      previous_delta = delta;
      if (!with_values) continue;
      if (!e.values.empty() && !std::isnan(e.values[i]))
        values.push_back(e.values[i]);
      else
        values.push_back(nullptr);
    }
  }
  auto text = base64_encode(data);
  data = std::string();  // the raw bytes are not needed any more: a long run's are tens of MB
  auto out = nlohmann::json::object();
  out["count"] = size();
  out["data"] = std::move(text);
  if (with_values) out["values"] = std::move(values);
  return out;
}

sample_log sample_log::from_json(const nlohmann::json& j) {
  if (!j.is_object()) bad("expected an object with 'count' and 'data'");
  if (!j.contains("count") || !j.at("count").is_number_unsigned()) bad("'count' must be a non-negative integer");
  if (!j.contains("data") || !j.at("data").is_string()) bad("'data' must be a base64 string");
  const auto count = j.at("count").get<std::uint64_t>();
  std::string data;
  try {
    data = base64_decode(j.at("data").get<std::string>());
  } catch (const std::invalid_argument& e) {
    bad(std::string("'data': ") + e.what());
  }
  const nlohmann::json* values = nullptr;
  if (j.contains("values")) {
    values = &j.at("values");
    if (!values->is_array() || values->size() != count) bad("'values' must be an array of 'count' numbers or nulls");
  }
  sample_log log;
  std::size_t pos = 0;
  std::int64_t us = 0, delta = 0;
  constexpr std::int64_t limit = std::int64_t{1} << 52;  // far beyond any run; keeps the sums exact
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto head = get_varint(data, pos);
    const auto latency = get_varint(data, pos);
    if ((head & (fallback_bit - 1)) >= outcome_count) bad("sample " + std::to_string(i) + " has an unknown outcome");
    if (latency > static_cast<std::uint64_t>(sample_log::max_latency.count())) bad("sample " + std::to_string(i) + " has a latency out of range");
    const auto change = unzigzag(head >> latency_shift);
    if (change < -limit || change > limit || delta + change < 0 || delta + change > limit || us + delta + change > limit)
      bad("sample " + std::to_string(i) + " has an intended time out of order or out of range");
    delta += change;
    us += delta;
    const auto packed = static_cast<std::uint32_t>(latency << latency_shift | (head & (fallback_bit | (fallback_bit - 1))));
    std::optional<double> value;
    if (values) {
      const auto& v = (*values)[i];
      if (v.is_number()) value = v.get<double>();
      else if (!v.is_null()) bad("'values' must hold numbers or nulls");
    }
    const auto p = packed;
    log.add(std::chrono::microseconds(us), std::chrono::microseconds(p >> latency_shift),
            static_cast<outcome>(p & (fallback_bit - 1)), (p & fallback_bit) != 0, value);
  }
  if (pos != data.size()) bad("'data' holds more than 'count' samples");
  return log;
}

}  // namespace faultline::probes
