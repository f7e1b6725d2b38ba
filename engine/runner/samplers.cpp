#include "engine/config_error.hpp"
#include "engine/runner/sampler.hpp"
#include "probes/load_generator.hpp"
#include "probes/probe_runner.hpp"
#include "probes/websocket_load.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <span>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
  load_sampler(const load_spec& load, probes::load_series series)
      : config_(load.config),
        generator_(std::make_unique<probes::load_generator>(
            std::vector<boost::asio::any_io_executor>{io_.get_executor()}, config_, std::move(series))),
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

// A capacity run's load: a fresh generator per trial on one thread of its own.
class http_trial_load final : public trial_load {
public:
  http_trial_load(std::shared_ptr<const probes::http_load_config> config, probes::load_series series)
      : base_(std::move(config)), series_(std::move(series)), thread_([this] { io_.run(); }) {}

  ~http_trial_load() override {
    if (generator_) generator_->stop();
    for (int i = 0; i < 500 && generator_ && !generator_->done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    work_.reset();
    io_.stop();
    thread_.join();
    generator_.reset();  // after its worker's thread is gone
    finished_.clear();
  }

  std::chrono::nanoseconds settle_time() const override { return base_->timeout + std::chrono::milliseconds(100); }
  void start(probes::clock::time_point) override {}  // trials start on their own
  void stop() override {
    if (generator_) generator_->stop();
  }
  bool done() const override { return !generator_ || generator_->done(); }

  void start_trial(double rate, std::chrono::nanoseconds length, probes::clock::time_point at) override {
    if (!done()) throw std::logic_error("a capacity trial started before the previous one ended");
    auto config = std::make_shared<probes::http_load_config>(*base_);
    probes::load_stage stage;
    stage.rate_from = stage.rate_to = rate;
    stage.duration = length;
    config->shape = {stage};
    config->max_requests = 0;
    // The previous generator stays alive until the end: its thread may still be leaving its last handler.
    if (generator_) finished_.push_back(std::move(generator_));
    generator_ = std::make_unique<probes::load_generator>(std::vector<boost::asio::any_io_executor>{io_.get_executor()},
                                                          std::move(config), series_);
    generator_->start(at);
  }

private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::shared_ptr<const probes::http_load_config> base_;
  probes::load_series series_;
  std::unique_ptr<probes::load_generator> generator_;
  std::vector<std::unique_ptr<probes::load_generator>> finished_;
  std::thread thread_;
};

// The WebSocket load on a thread of its own, as the HTTP load.
class websocket_sampler final : public sampler {
public:
  websocket_sampler(const websocket_load_spec& spec, probes::timeline& timeline)
      : config_(std::make_shared<const probes::websocket_load_config>(probes::websocket_load_config::from(spec.parameters))),
        load_(std::make_unique<probes::websocket_load>(std::vector<boost::asio::any_io_executor>{io_.get_executor()}, config_,
                                                       timeline.series(probes::websocket_messages_series),
                                                       timeline.series(probes::websocket_sessions_series))),
        thread_([this] { io_.run(); }) {}

  ~websocket_sampler() override {
    load_->stop();
    const auto until = probes::clock::now() + config_->settle_time() + std::chrono::seconds(2);  // and the closes
    while (!load_->done() && probes::clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    work_.reset();
    io_.stop();
    thread_.join();
    load_.reset();  // after its worker's thread is gone
  }

  std::chrono::nanoseconds settle_time() const override { return config_->settle_time(); }
  void start(probes::clock::time_point first) override { load_->start(first); }
  void stop() override { load_->stop(); }
  bool done() const override { return load_->done(); }
  void add_counters(std::map<std::string, nlohmann::json>& out) const override {
    out[std::string(probes::websocket_messages_series)] = probes::to_json(load_->stats());
  }

private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::shared_ptr<const probes::websocket_load_config> config_;
  std::unique_ptr<probes::websocket_load> load_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<trial_load> make_trial_load(const experiment& x, probes::timeline& timeline) {
  return std::make_unique<http_trial_load>(x.load->config, probes::make_load_series(timeline, *x.load->config));
}

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
  if (x.load && !x.is_capacity_run())
    out.push_back(std::make_unique<load_sampler>(*x.load, probes::make_load_series(timeline, *x.load->config)));
  if (x.websocket_load) out.push_back(std::make_unique<websocket_sampler>(*x.websocket_load, timeline));
  return out;
}

}  // namespace faultline::engine
