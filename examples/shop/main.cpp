// faultline-shop: the demo system under test. Serves GET /orders/{id} from PostgreSQL through a
// Redis cache and a circuit breaker, and checkouts that charge the payments API through another;
// see docs/shop.md.

#include "examples/shop/checkout_service.hpp"
#include "examples/shop/circuit_breaker.hpp"
#include "examples/shop/config.hpp"
#include "examples/shop/http_server.hpp"
#include "examples/shop/log.hpp"
#include "examples/shop/metrics.hpp"
#include "examples/shop/order_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace faultline::shop;

namespace {

tcp::endpoint resolve(asio::io_context& context, const char* flag, const address& a) {
  boost::system::error_code ec;
  auto results = tcp::resolver(context).resolve(a.host, std::to_string(a.port), ec);
  if (ec || results.empty())
    throw flag_error(fmt::format("{}: cannot resolve '{}': {}", flag, a.host, ec ? ec.message() : "no address"));
  return results.begin()->endpoint();
}

std::string to_text(const tcp::endpoint& e) {
  return e.address().is_v6() ? fmt::format("[{}]:{}", e.address().to_string(), e.port())
                             : fmt::format("{}:{}", e.address().to_string(), e.port());
}

long long to_ms(std::chrono::nanoseconds d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// A connection storm needs descriptors: use all the hard limit allows.
void raise_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// A breaker whose transitions are logged ("breaker <dependency> closed->open reason=..."),
// counted, and whose opening arms a timer so it turns half-open when the cool-down ends, traffic
// or not.
class watched_breaker {
public:
  watched_breaker(asio::io_context& context, dependency d, const breaker_config& config, shop_metrics& metrics)
      : context_(context), cooldown_(context), breaker_(config, [this, d, &metrics](const breaker_transition& t) {
          log_line("breaker", fmt::format("{} {}->{} {}", to_string(d), to_string(t.from), to_string(t.to), t.reason));
          metrics.count_transition(d, t);
          if (t.to != breaker_state::open) return;
          asio::post(context_, [this, until = t.at + breaker_.config().cooldown] {
            cooldown_.expires_at(until);
            cooldown_.async_wait([this](boost::system::error_code ec) {
              if (!ec) breaker_.poll(std::chrono::steady_clock::now());
            });
          });
        }),
        dependency_(d) {}
  watched_breaker(const watched_breaker&) = delete;

  circuit_breaker& get() { return breaker_; }
  void log_config() const {
    const auto& b = breaker_.config();
    log_line("breaker", fmt::format("{} config rule={} failures={} failure_rate={} window={} minimum_calls={} "
                                    "slow_call_ms={} cooldown_ms={} trials={}",
                                    to_string(dependency_), b.rule == trip_rule::failure_rate ? "rate" : "consecutive",
                                    b.consecutive_failures, b.failure_rate, b.window, b.minimum_calls,
                                    to_ms(b.slow_call), to_ms(b.cooldown), b.half_open_trials));
  }

private:
  asio::io_context& context_;
  asio::steady_timer cooldown_;
  circuit_breaker breaker_;
  dependency dependency_;
};

int run(const shop_config& config) {
  std::signal(SIGPIPE, SIG_IGN);
  raise_open_files_limit();
  shop_metrics metrics;  // outlives the io_contexts: connections torn down with them still count down

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (int i = 0; i < config.threads; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
  asio::io_context& main_context = *contexts.front();
  const tcp::endpoint listen_at = resolve(main_context, "--listen", config.listen);
  const tcp::endpoint redis_at = resolve(main_context, "--redis", config.redis.where);

  // The breakers are shared by all threads.
  watched_breaker breaker(main_context, dependency::postgres, config.breaker, metrics);
  std::optional<watched_breaker> payments_breaker;
  tcp::endpoint payments_at;
  if (!config.payments.host.empty()) {
    payments_at = resolve(main_context, "--payments", config.payments);
    payments_breaker.emplace(main_context, dependency::payments, config.payments_breaker, metrics);
  }

  std::vector<std::unique_ptr<order_service>> services;
  std::vector<std::unique_ptr<checkout_service>> checkouts;
  std::vector<worker> workers;
  for (auto& context : contexts) {
    services.push_back(
        std::make_unique<order_service>(context->get_executor(), config, metrics, breaker.get(), redis_at));
    checkouts.push_back(std::make_unique<checkout_service>(
        context->get_executor(), config, metrics, payments_breaker ? &payments_breaker->get() : nullptr, payments_at));
    workers.push_back({context.get(), services.back().get(), checkouts.back().get()});
  }
  http_server server(workers, config, metrics);
  tcp::endpoint bound;
  try {
    bound = server.listen(listen_at);
  } catch (const boost::system::system_error& e) {
    throw flag_error(fmt::format("--listen: cannot listen on {}: {}", to_text(listen_at), e.code().message()));
  }
  if (!config.port_file.empty()) {
    // Written whole, then renamed, so a script polling for it never reads half a number.
    const std::string partial = config.port_file + ".partial";
    std::ofstream(partial) << bound.port() << '\n';
    if (std::rename(partial.c_str(), config.port_file.c_str()) != 0)
      throw flag_error(fmt::format("--port-file: cannot write {}", config.port_file));
  }
  server.start();

  log_line("shop", fmt::format("listening address={} threads={} postgres={}:{} redis={} payments={} cache_ttl_ms={} "
                               "stale_ttl_ms={} pid={}",
                               to_text(bound), config.threads, config.postgres.where.host, config.postgres.where.port,
                               to_text(redis_at), payments_breaker ? to_text(payments_at) : "none",
                               to_ms(config.cache_ttl), to_ms(config.stale_ttl), getpid()));
  breaker.log_config();
  if (payments_breaker) payments_breaker->log_config();

  // SIGINT/SIGTERM: stop accepting, let requests in flight finish (2 s at most), then stop.
  asio::signal_set signals(main_context, SIGINT, SIGTERM);
  asio::steady_timer drain(main_context);
  std::function<void(std::chrono::steady_clock::time_point)> stop_when_drained = [&](auto deadline) {
    if (metrics.inflight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      drain.expires_after(std::chrono::milliseconds(10));
      drain.async_wait([&, deadline](boost::system::error_code) { stop_when_drained(deadline); });
      return;
    }
    for (auto& context : contexts) context->stop();
  };
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    log_line("shop", fmt::format("stopping signal={} inflight={}", signal, metrics.inflight.load()));
    server.stop_accepting();
    stop_when_drained(std::chrono::steady_clock::now() + std::chrono::seconds(2));
  });

  std::vector<std::thread> threads;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> busy;
  for (auto& context : contexts) busy.push_back(asio::make_work_guard(*context));
  for (std::size_t i = 1; i < contexts.size(); ++i) threads.emplace_back([&, i] { contexts[i]->run(); });
  main_context.run();
  for (auto& t : threads) t.join();
  log_line("shop", "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_command_line(argc, argv));
  } catch (const flag_error& e) {
    std::cerr << "faultline-shop: " << e.what() << " (see faultline-shop --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "faultline-shop: internal error: " << e.what() << '\n';
    return 4;
  }
}
