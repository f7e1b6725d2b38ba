#include "tests/support/test_catalogue.hpp"

namespace faultline::test {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

faults::fault_type type(std::string name, faults::target_kind target, param_schema params) {
  faults::fault_type t;
  t.name = std::move(name);
  t.summary = "test type";
  t.family = "test";
  t.target = target;
  t.params = std::move(params);
  return t;
}

faults::fault_registry make_faults() {
  faults::fault_registry r;
  auto latency = type("latency", faults::target_kind::proxy, {
      {"latency", param_kind::duration, "", nanoseconds(0), false, 0.0},
      {"jitter", param_kind::duration, "", nanoseconds(0), false, 0.0},
      {"stream", param_kind::choice, "", std::string("downstream"), false, {}, {}, {"downstream", "upstream"}},
      {"toxicity", param_kind::fraction, "", 1.0, false, 0.0, 1.0},
  });
  latency.validate = [](const params& p) {
    if (p.duration("jitter") > p.duration("latency") && p.duration("latency").count() > 0)
      throw param_error("jitter", "jitter must not exceed latency");
  };
  r.add(std::move(latency));
  r.add(type("bandwidth", faults::target_kind::proxy, {{"rate", param_kind::bandwidth, "", {}, true, 0.0}}));
  auto down = type("down", faults::target_kind::proxy, {});
  down.exclusive = true;
  r.add(std::move(down));
  auto pg = type("pg_delay", faults::target_kind::proxy, {
      {"delay", param_kind::duration, "", {}, true, 0.0},
      {"match", param_kind::text, "", std::string(".*")},
      {"probability", param_kind::fraction, "", 1.0},
  });
  pg.protocol = "postgres";
  r.add(std::move(pg));
  auto net = type("network", faults::target_kind::device, {
      {"delay", param_kind::duration, "", nanoseconds(0), false, 0.0},
      {"loss", param_kind::fraction, "", 0.0},
      {"rate", param_kind::bandwidth, ""},
      {"ports", param_kind::text_list, ""},
      {"engine", param_kind::choice, "", std::string("auto"), false, {}, {}, {"auto", "netem", "userspace"}},
      {"storm.size", param_kind::integer, "", {}, false, 1.0},
  });
  net.exclusive = true;
  r.add(std::move(net));
  r.add(type("connection_storm", faults::target_kind::address, {
      {"connections", param_kind::integer, "", {}, true, 1.0, 1e6},
      {"rate", param_kind::rate, ""},
  }));
  auto command = type("command", faults::target_kind::none, {
      {"run", param_kind::text, "", {}, true},
      {"timeout", param_kind::duration, "", nanoseconds(30s)},
  });
  command.action = true;
  r.add(std::move(command));
  auto flush = type("redis_flush", faults::target_kind::proxy, {});
  flush.action = true;
  flush.destructive = true;
  flush.protocol = "redis";
  r.add(std::move(flush));
  return r;
}

probes::probe_registry make_probes() {
  probes::probe_registry r;
  r.add({"http", "test", {
      {"url", param_kind::text, "", {}, true},
      {"expect.status", param_kind::integer, "", {}, false, 100, 599},
      {"expect.body_contains", param_kind::text, ""},
  }, nullptr});
  r.add({"metric", "test", {
      {"url", param_kind::text, "", {}, true},
      {"series", param_kind::text, "", {}, true},
  }, nullptr});
  r.add({"tcp", "test", {{"address", param_kind::host_port, "", {}, true}}, nullptr});
  return r;
}

}  // namespace

const faults::fault_registry& test_faults() {
  static const auto registry = make_faults();
  return registry;
}

const probes::probe_registry& test_probes() {
  static const auto registry = make_probes();
  return registry;
}

engine::catalogue test_catalogue() { return {test_faults(), test_probes()}; }

engine::catalogue builtin_catalogue() {
  static const auto faults_registry = [] {
    faults::fault_registry r;
    faults::register_builtin_faults(r);
    return r;
  }();
  static const auto probe_registry = [] {
    probes::probe_registry r;
    probes::register_builtin_probes(r);
    return r;
  }();
  return {faults_registry, probe_registry};
}

}  // namespace faultline::test
