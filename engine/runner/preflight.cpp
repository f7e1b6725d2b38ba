#include "engine/runner/preflight.hpp"

#include "core/capabilities.hpp"
#include "engine/recovery.hpp"
#include "faults/proxy/proxy_set.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace faultline::engine {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

void check_privileges(const experiment& x) {
  for (const auto& s : x.timeline.steps) {
    const auto& needed = s.fault_type->capability;
    if (needed.empty() || has_capability(needed)) continue;
    throw faults::capability_error(fmt::format(
        "{}: step '{}' ({}) needs {}, which faultline running as {} does not have; nothing was started or changed. Run it "
        "as root (e.g. with sudo), or leave the step out: proxy, protocol, storm, load and probe features need no "
        "privileges",
        s.where.position(), s.name, s.type, needed, process_identity()));
  }
}

void undo_leftovers(state_file& state, const faults::fault_registry& registry, const log_line& log) {
  recovery_outcome outcome;
  try {
    outcome = recover_leftovers(state, registry, false);
  } catch (const std::exception& e) {
    throw preflight_error(fmt::format("the state file {} cannot be used ({}); name a writable one with --state-file "
                                      "(or FAULTLINE_STATE_FILE), or set XDG_STATE_HOME",
                                      state.path().string(), e.what()));
  }
  for (const auto& line : outcome.undone) log("undid a fault left by a killed run: " + line);
  for (const auto& line : outcome.failed)
    throw preflight_error("a killed run left a fault that cannot be undone: " + line +
                          "; fix it by hand, then run 'faultline recover'");
}

std::unique_ptr<proxy::proxy_set> start_proxies(const experiment& x, const log_line& log) {
  if (x.proxies.empty()) return nullptr;
  proxy::proxy_set::options o;
  o.threads = 2;
  auto proxies = std::make_unique<proxy::proxy_set>(o);
  for (const auto& p : x.proxies) {
    proxy::proxy_config c;
    c.name = p.name;
    c.listen = p.listen.to_string();
    c.upstream = p.upstream.to_string();
    c.protocol = p.protocol;
    c.allow_non_loopback = p.allow_non_loopback;
    try {
      auto info = proxies->add(c);
      log(fmt::format("proxy {}: {} -> {} ({})", p.name, info.listen, p.upstream.to_string(), p.protocol));
    } catch (const std::exception& e) {
      throw preflight_error(fmt::format("{}: proxy '{}' cannot listen on {}: {}", p.where.position(), p.name,
                                        p.listen.to_string(), e.what()));
    }
  }
  return proxies;
}

std::vector<std::unique_ptr<faults::fault>> prepare_faults(const experiment& x, const faults::fault_context& base,
                                                           bool interactive) {
  std::vector<std::unique_ptr<faults::fault>> prepared;
  for (const auto& s : x.timeline.steps) {
    if (s.end == step_end::manual && !s.duration && !interactive)
      throw preflight_error(fmt::format("step '{}' lasts until ended by the operator: run with --interactive, or "
                                        "give it 'for:' as an upper bound",
                                        s.name));
    if (!s.fault_type->create)
      throw preflight_error(fmt::format("fault type '{}' has no implementation in this build", s.type));
    auto context = base;
    context.target = s.target;
    context.step_name = s.name;
    try {
      prepared.push_back(s.fault_type->create(s.parameters, context));
      prepared.back()->preflight();
    } catch (const faults::capability_error& e) {
      throw faults::capability_error(fmt::format("{}: step '{}' ({}): {}", s.where.position(), s.name, s.type, e.what()));
    } catch (const std::exception& e) {
      throw preflight_error(fmt::format("{}: step '{}' ({}): {}", s.where.position(), s.name, s.type, e.what()));
    }
  }
  return prepared;
}

asio::awaitable<void> check_upstreams(const experiment& x) {
  for (const auto& p : x.proxies) {
    asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
    auto [rerr, endpoints] = co_await resolver.async_resolve(p.upstream.host, std::to_string(p.upstream.port),
                                                             asio::as_tuple(asio::use_awaitable));
    std::string problem = rerr ? rerr.message() : "";
    if (!rerr) {
      // The upstream is the real system: real time, whatever clock the run's decisions use.
      asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
      asio::steady_timer deadline(co_await asio::this_coro::executor, std::chrono::seconds(3));
      auto result = co_await (asio::async_connect(socket, endpoints, asio::as_tuple(asio::use_awaitable)) ||
                              deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (result.index() == 1) problem = "no answer within 3s";
      else if (auto [cerr, ep] = std::get<0>(result); cerr) problem = cerr.message();
    }
    if (!problem.empty())
      throw preflight_error(fmt::format("{}: proxy '{}': its upstream {} is not reachable ({}); start the dependency "
                                        "first or fix the address",
                                        p.where.position(), p.name, p.upstream.to_string(), problem));
  }
}

}  // namespace faultline::engine
