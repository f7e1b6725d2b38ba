#include "probes/command_probe.hpp"

#include <cctype>
#include <cstdlib>

namespace faultline::probes {
namespace asio = boost::asio;

command_probe_config command_probe_config::from(const params& p) {
  command_probe_config c;
  c.run = p.text("run");
  if (c.run.find_first_not_of(" \t\n") == std::string::npos) throw param_error("run", "the command is empty");
  c.expect_exit_code = static_cast<int>(p.maybe<std::int64_t>("expect.exit_code").value_or(0));
  c.value = p.maybe<bool>("value").value_or(false);
  c.timeout = p.duration("timeout");
  return c;
}

std::optional<double> first_number(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto digit = [&](std::size_t k) { return k < text.size() && std::isdigit(static_cast<unsigned char>(text[k])); };
    std::size_t start = i;
    if (text[i] == '-' || text[i] == '+') {
      if (!(digit(i + 1) || (i + 2 < text.size() && text[i + 1] == '.' && digit(i + 2)))) continue;
    } else if (text[i] == '.') {
      if (!digit(i + 1)) continue;
    } else if (!digit(i)) {
      continue;
    }
    const std::string rest(text.substr(start, 64));
    char* end = nullptr;
    const double v = std::strtod(rest.c_str(), &end);
    if (end != rest.c_str()) return v;
  }
  return std::nullopt;
}

asio::awaitable<sample> command_probe::check(clock::time_point intended) {
  const auto started = clock::now();
  const auto r = co_await run_command(executor_, config_->run, started + config_->timeout);
  std::optional<double> value;
  if (config_->value) value = first_number(r.output);
  auto result = outcome::ok;
  switch (r.how) {
    case command_result::ending::timed_out: result = outcome::timeout; break;
    case command_result::ending::failed_to_start:
    case command_result::ending::signalled: result = outcome::protocol_error; break;
    case command_result::ending::exited:
      if (r.code != config_->expect_exit_code) result = outcome::unexpected_value;
      else if (config_->value && !value) result = outcome::unexpected_value;
      break;
  }
  co_return finished(intended, started, result, value);
}

}  // namespace faultline::probes
