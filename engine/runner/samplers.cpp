#include "engine/config_error.hpp"
#include "engine/runner/sampler.hpp"
#include "probes/load_generator.hpp"
#include "probes/probe_runner.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <span>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace faultline::engine {
namespace {

// A resource probe's readings go to one series per quantity ("shop.rss"), each sample carrying
// the check's times and outcome and the quantity as its value. The series exist from the start.
class recording_readings final : public probes::probe {
public:
  recording_readings(std::unique_ptr<probes::probe> inner, probes::timeline& timeline, const std::string& name,
                     std::span<const probes::quantity> quantities)
      : inner_(std::move(inner)) {
    for (const auto& q : quantities) series_.emplace_back(&q, timeline.series(probes::quantity_series_name(name, q)));
  }

  boost::asio::awaitable<probes::sample> check(probes::clock::time_point intended) override {
    auto s = co_await inner_->check(intended);
    for (const auto& r : inner_->readings())
      for (const auto& [q, series] : series_)
        if (q == r.what) series.record({s.intended, s.started, s.latency, s.result, r.value});
    co_return s;
  }
  std::vector<probes::reading> readings() const override { return inner_->readings(); }

private:
  std::unique_ptr<probes::probe> inner_;
  std::vector<std::pair<const probes::quantity*, probes::timeline::recorder>> series_;
};

// A probe checked on its interval for the whole run.
class probe_sampler final : public sampler {
public:
  probe_sampler(boost::asio::any_io_executor executor, std::unique_ptr<probes::probe> p, const params& settings,
                probes::timeline::recorder series)
      : timeout_(settings.duration("timeout")),
        runner_(std::move(executor), std::move(p), settings.duration("every"), timeout_, series) {}

  std::chrono::nanoseconds settle_time() const override { return timeout_ + probes::probe_runner::grace; }
  void start(probes::clock::time_point first) override { runner_.start(first); }
  void stop() override { runner_.stop(); }
  bool done() const override { return runner_.done(); }

private:
  std::chrono::nanoseconds timeout_;
  probes::probe_runner runner_;
};

// The load generator on a thread of its own, so the run's control work never delays a request.
class load_sampler final : public sampler {
public:
  load_sampler(const load_spec& load, probes::timeline::recorder series)
      : config_(std::make_shared<const probes::http_load_config>(probes::http_load_config::from(load.parameters, load.shape))),
        generator_(std::make_unique<probes::load_generator>(
            std::vector<boost::asio::any_io_executor>{io_.get_executor()}, config_, series)),
        thread_([this] { io_.run(); }) {}

  ~load_sampler() override {
    generator_->stop();
    for (int i = 0; i < 500 && !generator_->done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    work_.reset();
    io_.stop();
    thread_.join();
    generator_.reset();  // after its worker's thread is gone
  }

  std::chrono::nanoseconds settle_time() const override { return config_->timeout + std::chrono::milliseconds(100); }
  void start(probes::clock::time_point first) override { generator_->start(first); }
  void stop() override { generator_->stop(); }
  bool done() const override { return generator_->done(); }

private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::shared_ptr<const probes::http_load_config> config_;
  std::unique_ptr<probes::load_generator> generator_;
  std::thread thread_;
};

}  // namespace

std::vector<std::unique_ptr<sampler>> make_samplers(const experiment& x, const probes::probe_registry& registry,
                                                    probes::timeline& timeline,
                                                    boost::asio::any_io_executor executor) {
  std::vector<std::unique_ptr<sampler>> out;
  for (const auto& p : x.probes) {
    const auto* type = registry.find(p.type);
    if (!type || !type->create)
      throw config_error({{p.where, fmt::format("probe type '{}' has no implementation in this build", p.type)}});
    std::unique_ptr<probes::probe> probe;
    try {
      probe = type->create(p.parameters, executor);  // resource probes find their process or cgroup here
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("probe '{}': {}", p.name, e.what()));
    }
    if (!type->quantities.empty())
      probe = std::make_unique<recording_readings>(std::move(probe), timeline, p.name, type->quantities);
    out.push_back(std::make_unique<probe_sampler>(executor, std::move(probe), p.parameters, timeline.series(p.name)));
  }
  if (x.load) out.push_back(std::make_unique<load_sampler>(*x.load, timeline.series("load")));
  return out;
}

}  // namespace faultline::engine
