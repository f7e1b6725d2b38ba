// How much recording a sample into the Timeline costs: ns per record() from one thread, and from
// two threads into the same series (the per-series mutex contended) and into separate series.
// Usage: timeline_record_bench [samples per thread]

#include "core/histogram.hpp"
#include "probes/timeline.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

using namespace faultline::probes;
using namespace std::chrono_literals;

namespace {

double ns_per_record(int threads, bool same_series, long samples) {
  const auto start = clock::now();
  timeline tl(start);
  std::vector<std::thread> workers;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      auto r = tl.series(same_series ? "load" : fmt::format("series{}", t));
      sample s;
      for (long i = 0; i < samples; ++i) {
        // 10k samples per second of intended time: windows roll over as in a real run.
        s.intended = start + std::chrono::microseconds(100 * i);
        s.started = s.intended;
        s.latency = std::chrono::nanoseconds(50'000 + (i * 7919) % 5'000'000);
        r.record(s);
      }
    });
  for (auto& w : workers) w.join();
  const auto took = std::chrono::steady_clock::now() - t0;
  return std::chrono::duration<double, std::nano>(took).count() / static_cast<double>(samples);
}

double ns_per_histogram_record(long samples) {
  faultline::histogram h;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < samples; ++i) h.record(std::chrono::nanoseconds(50'000 + (i * 7919) % 5'000'000));
  const auto took = std::chrono::steady_clock::now() - t0;
  if (h.count() != static_cast<std::uint64_t>(samples)) std::abort();
  return std::chrono::duration<double, std::nano>(took).count() / static_cast<double>(samples);
}

}  // namespace

int main(int argc, char** argv) {
  const long samples = argc > 1 ? std::atol(argv[1]) : 5'000'000;
  fmt::print("histogram::record, 1 thread:                 {:6.1f} ns\n", ns_per_histogram_record(samples));
  fmt::print("timeline record, 1 thread:                   {:6.1f} ns\n", ns_per_record(1, true, samples));
  fmt::print("timeline record, 2 threads, same series:     {:6.1f} ns per thread's record\n", ns_per_record(2, true, samples));
  fmt::print("timeline record, 2 threads, separate series: {:6.1f} ns per thread's record\n", ns_per_record(2, false, samples));
}
