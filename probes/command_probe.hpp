#pragma once
// The command probe: runs `/bin/sh -c RUN` in its own process group per check; ok when it exits
// with the expected code; optionally the first number on its stdout is the value. On timeout the
// whole process group is killed (by the PID it was started with).

#include "core/command.hpp"
#include "probes/probe.hpp"

#include <optional>
#include <string>

namespace faultline::probes {

struct command_probe_config {
  std::string run;
  int expect_exit_code = 0;
  bool value = false;
  std::chrono::nanoseconds timeout{};
  static command_probe_config from(const params& p);  // throws param_error
};

// The first number in `text` ("up 42 s" -> 42, "-1.5e3" -> -1500); nullopt when there is none.
std::optional<double> first_number(std::string_view text);

class command_probe : public probe {
public:
  command_probe(std::shared_ptr<const command_probe_config> config, boost::asio::any_io_executor executor)
      : config_(std::move(config)), executor_(std::move(executor)) {}
  boost::asio::awaitable<sample> check(clock::time_point intended) override;

private:
  std::shared_ptr<const command_probe_config> config_;
  boost::asio::any_io_executor executor_;
};

}  // namespace faultline::probes
