#include "engine/config_error.hpp"
#include "engine/runner/sampler.hpp"
#include "probes/probe_runner.hpp"

#include <fmt/format.h>

namespace faultline::engine {
namespace {

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

}  // namespace

std::vector<std::unique_ptr<sampler>> make_samplers(const experiment& x, const probes::probe_registry& registry,
                                                    probes::timeline& timeline,
                                                    boost::asio::any_io_executor executor) {
  std::vector<std::unique_ptr<sampler>> out;
  for (const auto& p : x.probes) {
    const auto* type = registry.find(p.type);
    if (!type || !type->create)
      throw config_error({{p.where, fmt::format("probe type '{}' has no implementation in this build", p.type)}});
    out.push_back(std::make_unique<probe_sampler>(executor, type->create(p.parameters, executor), p.parameters,
                                                  timeline.series(p.name)));
  }
  if (x.load) throw config_error({{x.load->where, "the load generator is not part of this build yet"}});
  return out;
}

}  // namespace faultline::engine
