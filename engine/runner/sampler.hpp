#pragma once
// What samples the system for the whole run into the Timeline: the load generator and one
// runner per probe, behind one small interface so the session treats them alike.

#include "engine/experiment.hpp"
#include "probes/probe.hpp"
#include "probes/timeline.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace faultline::engine {

class sampler {
public:
  virtual ~sampler() = default;
  // The longest one sample can take: windows are final this long after they end.
  virtual std::chrono::nanoseconds settle_time() const = 0;
  virtual void start(probes::clock::time_point first) = 0;
  // Stops sending new samples; those in flight finish (each within settle_time()).
  virtual void stop() = 0;
  virtual bool done() const = 0;
};

// The load of a capacity run: one trial at a time, each the experiment's requests at a constant
// arrival rate for a while, into the same series as the load of any run ("load", "load.<name>").
class trial_load : public sampler {
public:
  // Starts a trial at `at` (the previous one must be done()).
  virtual void start_trial(double rate, std::chrono::nanoseconds length, probes::clock::time_point at) = 0;
};

// The load (series "load" and "load.<request>") and every probe (series named as the probe) of an
// experiment; a capacity run's load is its trial_load instead. Throws config_error when a probe
// type has no implementation.
std::vector<std::unique_ptr<sampler>> make_samplers(const experiment& x, const probes::probe_registry& probes,
                                                    probes::timeline& timeline,
                                                    boost::asio::any_io_executor executor);

// The trial load of a capacity run of `x` (which has a load).
std::unique_ptr<trial_load> make_trial_load(const experiment& x, probes::timeline& timeline);

}  // namespace faultline::engine
