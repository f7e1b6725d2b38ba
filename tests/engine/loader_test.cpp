#include "engine/loader.hpp"
#include "probes/load_generator.hpp"
#include "tests/support/test_catalogue.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace faultline;
using namespace std::chrono_literals;

namespace {

struct bad_experiment {
  const char* what;
  const char* yaml;
  std::vector<std::string> expected;  // every problem, "t.yaml:line:col: path: message", in order
};

// Each malformed experiment and the exact problems it must produce.
const std::vector<bad_experiment> bad_experiments{
    {"unknown top-level key",
     R"yaml(version: 1
name: x
timelin: {}
)yaml",
     {"t.yaml:1:1: the experiment is missing the required key 'timeline'",
      "t.yaml:3:1: timelin: unknown key 'timelin' in an experiment (did you mean 'timeline'?)"}},
    {"missing version and name",
     R"yaml(timeline:
  steps:
    - { at: 0s, for: 1s, fault: down, target: p }
)yaml",
     {"t.yaml:1:1: missing 'version: 1' at the top of the experiment",
      "t.yaml:3:47: timeline.steps[0].target: target 'p' is not a proxy of this experiment; declare it under 'proxies'"}},
    {"unsupported version",
     R"yaml(version: 2
name: x
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:1:10: version: unsupported format version 2; this faultline reads version 1"}},
    {"yaml syntax error",
     R"yaml(version: 1
name: [x
)yaml",
     {"t.yaml:3:1: a '[' opened before this point is not closed; add the closing ']'"}},
    {"empty file",
     R"yaml()yaml",
     {"t.yaml:1:1: the file is empty; an experiment starts with 'version: 1' and 'name:'"}},
    {"missing timeline",
     R"yaml(version: 1
name: x
)yaml",
     {"t.yaml:1:1: the experiment is missing the required key 'timeline'"}},
    {"steps missing",
     R"yaml(version: 1
name: x
timeline: { baseline: 5s }
)yaml",
     {"t.yaml:3:11: timeline: the timeline is missing the required key 'steps' (a list of faults and actions)"}},
    {"steps not a list",
     R"yaml(version: 1
name: x
timeline: { steps: { at: 0s } }
)yaml",
     {"t.yaml:3:20: timeline.steps: steps must be a list of faults and actions"}},
    {"empty steps",
     R"yaml(version: 1
name: x
timeline: { steps: [] }
)yaml",
     {"t.yaml:3:20: timeline.steps: the timeline has no steps; add at least one fault"}},
    {"step neither fault nor action",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - at: 0s
      for: 1s
)yaml",
     {"t.yaml:5:7: timeline.steps[0]: a step needs 'fault: <type>' or 'action: <type>'"}},
    {"unknown fault type",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { at: 0s, for: 1s, fault: latancy, target: p }
)yaml",
     {"t.yaml:5:33: timeline.steps[0].fault: unknown fault type 'latancy' (did you mean 'latency'?); known faults: bandwidth, connection_storm, down, latency, network, pg_delay"}},
    {"action used as fault",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { at: 0s, fault: command, run: "true" }
)yaml",
     {"t.yaml:5:24: timeline.steps[0].fault: 'command' is an action; write 'action: command'"}},
    {"unknown step key with did-you-mean",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - at: 0s
      for: 30s
      fault: latency
      target: pg
      latncy: 800ms
)yaml",
     {"t.yaml:11:7: timeline.steps[0].latncy: unknown key 'latncy' in the fault step 'latency' (did you mean 'latency'?)"}},
    {"duration without unit",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, for: 30s, fault: latency, target: pg, latency: 800 }
)yaml",
     {"t.yaml:7:64: timeline.steps[0].latency: '800' is not a duration: it has no unit; write e.g. 800ms or 800s"}},
    {"negative duration",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  baseline: -5s
  steps:
    - { at: 0s, for: 30s, fault: latency, target: pg }
)yaml",
     {"t.yaml:6:13: timeline.baseline: '-5s' is negative; durations cannot be negative"}},
    {"toxicity out of range",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, for: 30s, fault: latency, target: pg, toxicity: 1.5 }
)yaml",
     {"t.yaml:7:65: timeline.steps[0].toxicity: '1.5' is outside 0..1; write a fraction (0.1) or a percentage (10%)"}},
    {"percentage over 100",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { at: 0s, for: 30s, fault: network, target: veth0, loss: 120% }
)yaml",
     {"t.yaml:5:64: timeline.steps[0].loss: '120%' is outside 0%..100%"}},
    {"bad choice",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, for: 30s, fault: latency, target: pg, stream: upstreem }
)yaml",
     {"t.yaml:7:63: timeline.steps[0].stream: 'upstreem' is not a valid stream (choose one of: downstream, upstream); did you mean 'upstream'?"}},
    {"missing required parameter",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, for: 30s, fault: bandwidth, target: pg }
)yaml",
     {"t.yaml:7:7: timeline.steps[0]: the fault step 'bandwidth' is missing the required parameter 'rate' (a bandwidth such as 10MB/s)"}},
    {"bad bandwidth",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, for: 30s, fault: bandwidth, target: pg, rate: 10MB }
)yaml",
     {"t.yaml:7:63: timeline.steps[0].rate: '10MB' is not a bandwidth: write e.g. 10MB/s, 512KiB/s or 100Mbit/s"}},
    {"target not a proxy",
     R"yaml(version: 1
name: x
proxies:
  postgres: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, for: 30s, fault: latency, target: postgress }
)yaml",
     {"t.yaml:7:51: timeline.steps[0].target: target 'postgress' is not a proxy of this experiment (did you mean 'postgres'?)"}},
    {"target missing",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { at: 0s, for: 30s, fault: latency }
)yaml",
     {"t.yaml:5:7: timeline.steps[0]: the fault step 'latency' is missing the required key 'target' (a proxy name)"}},
    {"protocol mismatch",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432, protocol: redis }
timeline:
  steps:
    - { at: 0s, for: 30s, fault: pg_delay, target: pg, delay: 1s }
)yaml",
     {"t.yaml:7:52: timeline.steps[0].target: 'pg_delay' needs a proxy with protocol: postgres, but 'pg' has protocol: redis"}},
    {"destructive without confirmation",
     R"yaml(version: 1
name: x
proxies:
  cache: { listen: 127.0.0.1:16379, upstream: 127.0.0.1:6379, protocol: redis }
timeline:
  steps:
    - { at: 0s, action: redis_flush, target: cache }
)yaml",
     {"t.yaml:7:25: timeline.steps[0].action: 'redis_flush' destroys data; add 'destructive: true' to this step to confirm"}},
    {"action with duration",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { at: 0s, for: 5s, action: command, run: ./failover.sh }
)yaml",
     {"t.yaml:5:22: timeline.steps[0].for: the action step 'command' runs once and has no duration; remove 'for'"}},
    {"fault without end",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, fault: latency, target: pg }
)yaml",
     {"t.yaml:7:7: timeline.steps[0]: the fault step 'latency' needs 'for: <duration>' or 'until: recovered | manual | <step name>'"}},
    {"missing at",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { for: 5s, fault: latency, target: pg }
)yaml",
     {"t.yaml:7:7: timeline.steps[0]: the fault step 'latency' is missing the required key 'at' (when it starts, e.g. at: 0s)"}},
    {"until names no step",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, until: failovr, fault: latency, target: pg }
    - { name: failover, at: 5s, action: command, run: ./failover.sh }
)yaml",
     {"t.yaml:7:24: timeline.steps[0].until: 'until: failovr' names no step (use recovered, manual or a step name); did you mean 'failover'?"}},
    {"until itself",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { name: slow, at: 0s, until: slow, fault: latency, target: pg }
)yaml",
     {"t.yaml:7:36: timeline.steps[0].until: a step cannot wait for itself to end"}},
    {"until recovered without bound",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, until: recovered, fault: latency, target: pg }
)yaml",
     {"t.yaml:7:24: timeline.steps[0].until: 'until: recovered' needs 'for: <duration>' as its upper bound"}},
    {"exclusive overlap",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, for: 10s, fault: down, target: pg }
    - { at: 5s, for: 10s, fault: down, target: pg }
)yaml",
     {"t.yaml:8:7: timeline.steps[1]: step 'down-2' overlaps step 'down-1': two 'down' faults cannot act on 'pg' at the same time; start it after down-1 ends"}},
    {"duplicate step names",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { name: a, at: 0s, action: command, run: "true" }
    - { name: a, at: 1s, action: command, run: "true" }
)yaml",
     {"t.yaml:6:15: timeline.steps[1].name: another step is already named 'a'"}},
    {"validator rejects combination",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { at: 0s, for: 5s, fault: latency, target: pg, latency: 10ms, jitter: 50ms }
)yaml",
     {"t.yaml:7:77: timeline.steps[0].jitter: jitter must not exceed latency"}},
    {"proxy non-loopback",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 0.0.0.0:15432, upstream: 127.0.0.1:5432 }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:17: proxies.pg.listen: proxy 'pg' would listen on 0.0.0.0, which is not loopback; use 127.0.0.1 or set allow_non_loopback: true"}},
    {"proxy tls without a key",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432, tls: { mode: terminate, cert: a.pem } }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:65: proxies.pg.tls: tls: a terminating proxy needs both cert and key (missing key)"}},
    {"proxy bad address",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1, upstream: "[::1:5432" }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:17: proxies.pg.listen: '127.0.0.1' is not an address: it has no port; write host:port, e.g. 127.0.0.1:5432",
      "t.yaml:4:38: proxies.pg.upstream: '[::1:5432' is not an address: missing ']' after the IPv6 address"}},
    {"proxy missing upstream and bad protocol",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, protocol: postgress }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:7: proxies.pg: proxy 'pg' is missing the required key 'upstream'",
      "t.yaml:4:44: proxies.pg.protocol: unknown protocol 'postgress' (known: tcp, postgres, redis, http); did you mean 'postgres'?"}},
    {"two proxies on one port",
     R"yaml(version: 1
name: x
proxies:
  a: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
  b: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5433 }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:5:16: proxies.b.listen: another proxy already listens on 127.0.0.1:15432"}},
    {"load without shape",
     R"yaml(version: 1
name: x
load:
  http: { url: http://127.0.0.1:8080/ }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:9: load.http: the http load needs one of 'rate' (e.g. 200/s), 'users' (e.g. 50) or 'stages'"}},
    {"load rate without unit",
     R"yaml(version: 1
name: x
load:
  http: { url: http://127.0.0.1:8080/, rate: 200 }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:46: load.http.rate: '200' is not a rate: it has no time unit; write e.g. 200/s"}},
    {"load bad stage",
     R"yaml(version: 1
name: x
load:
  http: { url: http://127.0.0.1:8080/, stages: [ "100/s for 10s", "ramp 1000/s over 30s" ] }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:48: load.http.stages: stage 'ramp 1000/s over 30s': a ramp needs 'to <rate>' (write e.g. \"100/s for 10s\", \"ramp to 1000/s over 30s\" or \"500 users for 30s\")"}},
    {"load unknown generator",
     R"yaml(version: 1
name: x
load:
  grpc: { url: x }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:3: load.grpc: unknown key 'grpc' in load (known keys: http, websocket, levels, capacity)"}},
    {"unknown probe type",
     R"yaml(version: 1
name: x
probes:
  health: { htp: { url: http://127.0.0.1:8080/health } }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:13: probes.health.htp: unknown probe type 'htp' (known: http, metric, tcp); did you mean 'http'?"}},
    {"probe unknown nested key",
     R"yaml(version: 1
name: x
probes:
  health: { http: { url: http://127.0.0.1:8080/health, expect: { stauts: 200 } } }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:66: probes.health.http.expect.stauts: unknown key 'stauts' in 'expect' (did you mean 'status'?)"}},
    {"probe status out of range",
     R"yaml(version: 1
name: x
probes:
  health: { http: { url: http://127.0.0.1:8080/health, expect: { status: 700 } } }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:74: probes.health.http.expect.status: expect.status must be at most 599"}},
    {"probe named load",
     R"yaml(version: 1
name: x
probes:
  load: { tcp: { address: 127.0.0.1:80 } }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:3: probes.load: 'load' cannot name a probe (use letters, digits, '_' and '-'; 'load' is reserved)"}},
    {"rule unknown series",
     R"yaml(version: 1
name: x
probes:
  health: { tcp: { address: 127.0.0.1:80 } }
steady_state:
  require: [ "helth.ok" ]
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:6:14: steady_state.require[0]: rule \"helth.ok\" refers to 'helth', which is neither 'load' nor a probe (did you mean 'health'?)"}},
    {"rule on load without load",
     R"yaml(version: 1
name: x
abort_when: [ "load.error_rate > 50% for 10s" ]
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:3:15: abort_when[0]: rule \"load.error_rate > 50% for 10s\" uses 'load' but the experiment has no load section"}},
    {"rule wrong unit",
     R"yaml(version: 1
name: x
load:
  http: { url: http://127.0.0.1:8080/, rate: 10/s }
steady_state:
  require: [ "load.p95 < 2%" ]
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:6:26: steady_state.require[0]: in rule \"load.p95 < 2%\": load.p95 is compared with a duration such as 200ms, not '2%'"}},
    {"rule unknown statistic",
     R"yaml(version: 1
name: x
load:
  http: { url: http://127.0.0.1:8080/, rate: 10/s }
steady_state:
  require:
    - load.p96 < 200ms
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:7:12: steady_state.require[0]: in rule \"load.p96 < 200ms\": unknown statistic 'p96' (known: p50, p75, p90, p95, p99, p999, max, min, mean, error_rate, availability, rps, count, errors, value, ok; and a resource probe's quantities, e.g. rss, cpu)"}},
    {"rules not a list",
     R"yaml(version: 1
name: x
steady_state:
  require: "load.p95 < 200ms"
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:12: steady_state.require: rules must be a list, e.g. [ \"load.p95 < 200ms\", \"health.ok\" ]"}},
    {"unknown sla tier",
     R"yaml(version: 1
name: x
load:
  http: { url: http://127.0.0.1:8080/, rate: 10/s }
expect:
  sla: goldd
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:6:8: expect.sla: unknown SLA tier 'goldd' (bronze 99.0%/1s, silver 99.5%/500ms, gold 99.9%/200ms, platinum 99.95%/100ms); did you mean 'gold'?"}},
    {"score out of range",
     R"yaml(version: 1
name: x
expect:
  score: { at_least: 120 }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:22: expect.score.at_least: the score runs from 0 to 100"}},
    {"mttr without steady state",
     R"yaml(version: 1
name: x
expect:
  mttr: { below: 10s }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:9: expect.mttr: mttr is measured against the steady-state rules; add steady_state.require"}},
    {"breaker probe unknown",
     R"yaml(version: 1
name: x
probes:
  breaker_state: { metric: { url: http://127.0.0.1:8080/metrics, series: x } }
expect:
  breaker: { opens_within: 5s, probe: breaker }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:6:39: expect.breaker.probe: breaker probe 'breaker' is not a probe of this experiment"}},
    {"unknown expect key",
     R"yaml(version: 1
name: x
expect:
  mtr: { below: 10s }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:3: expect.mtr: unknown key 'mtr' in expect (did you mean 'mttr'?)"}},
    {"duplicate key",
     R"yaml(version: 1
name: x
name: y
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:3:1: name: duplicate key 'name' in an experiment"}},
    {"undefined variable",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: "127.0.0.1:${PG_PORT_UNSET_FOR_TEST}" }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:4:44: proxies.pg.upstream: variable 'PG_PORT_UNSET_FOR_TEST' is not set; pass --var PG_PORT_UNSET_FOR_TEST=VALUE, set it in the environment, or give a default as ${PG_PORT_UNSET_FOR_TEST:-VALUE}"}},
    {"settings window too small",
     R"yaml(version: 1
name: x
settings: { window: 10ms }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:3:21: settings.window: the window must be at least 100ms"}},
    {"settings repeat out of range",
     R"yaml(version: 1
name: x
settings: { repeat: 0 }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:3:21: settings.repeat: 0 is below the minimum of 1"}},
    {"wrong type list for scalar",
     R"yaml(version: 1
name: [a, b]
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
     {"t.yaml:2:7: name: expected a single value, not a list"}},
    {"storm address target",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { at: 0s, for: 5s, fault: connection_storm, target: "localhost", connections: 0 }
)yaml",
     {"t.yaml:5:59: timeline.steps[0].target: 'localhost' is not an address: it has no port; write host:port, e.g. 127.0.0.1:5432 (or name a proxy of this experiment)",
      "t.yaml:5:85: timeline.steps[0].connections: connections must be at least 1"}},
    {"an integer parameter beyond its range",  // issue 16: every numeric parameter has a range, named in the error
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { at: 0s, for: 5s, fault: connection_storm, target: "127.0.0.1:9", connections: 99999999999 }
)yaml",
     {"t.yaml:5:87: timeline.steps[0].connections: connections must be at most 1000000"}},
    {"target on typeless",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { at: 0s, action: command, target: x, run: "true" }
)yaml",
     {"t.yaml:5:42: timeline.steps[0].target: 'command' takes no target; remove 'target'"}},
    {"until before start",
     R"yaml(version: 1
name: x
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  steps:
    - { name: fix, at: 0s, action: command, run: "true" }
    - { at: 5s, until: fix, fault: latency, target: pg }
)yaml",
     {"t.yaml:8:24: timeline.steps[1].until: step 'fix' starts at 0s before this step (5s); it must not end before it starts"}},
    {"nested param wrong type",
     R"yaml(version: 1
name: x
timeline:
  steps:
    - { at: 0s, for: 5s, fault: network, target: veth0, ports: { a: 1 } }
)yaml",
     {"t.yaml:5:64: timeline.steps[0].ports: expected a list, not a mapping"}},
};

std::vector<std::string> problems_of(const std::string& yaml, const engine::variables& vars = {},
                                     const engine::catalogue& known = test::test_catalogue()) {
  try {
    engine::parse_experiment(yaml, "t.yaml", known, vars);
  } catch (const engine::config_error& e) {
    std::vector<std::string> out;
    for (const auto& p : e.problems()) out.push_back(p.to_string());
    return out;
  }
  return {};
}

}  // namespace

TEST_CASE("malformed experiments produce exact errors with positions", "[engine]") {
  REQUIRE(bad_experiments.size() >= 40);
  for (const auto& c : bad_experiments) {
    INFO(c.what);
    CHECK(problems_of(c.yaml) == c.expected);
  }
}

TEST_CASE("a complete experiment loads into the model", "[engine]") {
  const std::string yaml = R"yaml(version: 1
name: db-slowness
description: Orders API keeps serving from cache
tags: [database, game-day]
proxies:
  postgres: { listen: 127.0.0.1:15432, upstream: "127.0.0.1:${PG_PORT}", protocol: postgres }
load:
  http: { url: http://127.0.0.1:8080/orders/42, rate: 200/s, timeout: 2s }
probes:
  health: { http: { url: http://127.0.0.1:8080/health, every: 500ms, expect: { status: 200 } } }
steady_state:
  for: 5s
  require: [ "load.error_rate < 1%", "load.p95 < 200ms", "health.ok" ]
timeline:
  baseline: 10s
  steps:
    - { name: slow, at: 0s, until: failover, fault: latency, target: postgres, latency: 800ms, jitter: 100ms }
    - { name: failover, at: 20s, action: command, run: ./failover.sh }
  recovery: { timeout: 60s, stable_for: 3s }
abort_when: [ "load.error_rate > 50% for 10s" ]
expect:
  sla: gold
  during_fault: [ "load.error_rate < 5%" ]
  breaker: { opens_within: 5s, closes_within: 10s }
  mttr: { below: 10s }
  score: { at_least: 80 }
)yaml";
  engine::variables vars;
  vars.values["PG_PORT"] = "5433";
  auto x = engine::parse_experiment(yaml, "db.yaml", test::test_catalogue(), vars);
  CHECK(x.name == "db-slowness");
  CHECK(x.tags == std::vector<std::string>{"database", "game-day"});
  REQUIRE(x.proxies.size() == 1);
  CHECK(x.proxies[0].upstream.port == 5433);
  CHECK(x.proxies[0].protocol == "postgres");
  REQUIRE(x.load);
  REQUIRE(x.load->shape.size() == 1);
  CHECK(x.load->shape[0].rate_from == Approx(200));
  CHECK(x.load->parameters.duration("timeout") == 2s);
  REQUIRE(x.probes.size() == 1);
  CHECK(x.probes[0].parameters.duration("every") == 500ms);
  CHECK(x.probes[0].parameters.duration("timeout") == 1s);  // the default
  CHECK(x.probes[0].parameters.integer("expect.status") == 200);
  CHECK(x.steady_state.require.size() == 3);
  REQUIRE(x.timeline.steps.size() == 2);
  const auto& slow = x.timeline.steps[0];
  CHECK(slow.end == engine::step_end::after_step);
  CHECK(slow.until_step == "failover");
  CHECK(slow.parameters.duration("latency") == 800ms);
  CHECK(slow.parameters.text("stream") == "downstream");  // the default
  CHECK(x.timeline.steps[1].is_action);
  CHECK(x.timeline.steps[1].where.line == 18);
  CHECK(x.abort_when.at(0).sustained == 10s);
  CHECK(x.expect.sla == engine::sla_tier::gold);
  CHECK(x.expect.breaker->opens_within == 5s);
  CHECK(x.expect.mttr_below == 10s);
  CHECK(x.expect.score_at_least == Approx(80));
  CHECK(x.resolved_yaml.find("127.0.0.1:5433") != std::string::npos);
}

TEST_CASE("a proxy's tls and upstream_tls load into the model through the proxy's own parser", "[engine]") {
  const std::string yaml = R"yaml(version: 1
name: tls
proxies:
  db:
    listen: 127.0.0.1:15432
    upstream: 127.0.0.1:5432
    protocol: postgres
    tls: { mode: terminate, generate: true, ca_file: /tmp/db-ca.pem }
    upstream_tls: { verify: false, server_name: db.internal }
  web: { listen: 127.0.0.1:8443, upstream: 127.0.0.1:8080, tls: terminate }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml";
  auto x = engine::parse_experiment(yaml, "tls.yaml", test::test_catalogue(), {});
  REQUIRE(x.proxies.size() == 2);
  const auto& db = *x.find_proxy("db");
  CHECK(db.tls.terminates());
  CHECK(db.tls.generate);
  CHECK(db.tls.ca_file == "/tmp/db-ca.pem");
  REQUIRE(db.tls.upstream);
  CHECK_FALSE(db.tls.upstream->verify);
  CHECK(db.tls.upstream->server_name == "db.internal");
  const auto& web = *x.find_proxy("web");
  CHECK(web.tls.terminates());
  CHECK(web.tls.generate);
  CHECK_FALSE(web.tls.upstream);
}

TEST_CASE("settings.repeat sets the runs per faultline run, 1 by default", "[engine]") {
  auto with = engine::parse_experiment(R"yaml(version: 1
name: x
settings: { repeat: 5 }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
                                       "r.yaml", test::test_catalogue(), {});
  CHECK(with.settings.repeat == 5);
  auto without = engine::parse_experiment(R"yaml(version: 1
name: x
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
                                          "r.yaml", test::test_catalogue(), {});
  CHECK(without.settings.repeat == 1);
}

TEST_CASE("variables come from --var, then the environment, then the default", "[engine]") {
  const std::string yaml = R"yaml(version: 1
name: "${NAME:-fallback}"
timeline: { steps: [ { at: 0s, action: command, run: "echo $${HOME} ${WHO}" } ] }
)yaml";
  ::setenv("WHO", "environment", 1);
  auto x = engine::parse_experiment(yaml, "v.yaml", test::test_catalogue(), {});
  CHECK(x.name == "fallback");
  CHECK(x.timeline.steps[0].parameters.text("run") == "echo ${HOME} environment");
  engine::variables vars;
  vars.values = {{"NAME", "given"}, {"WHO", "cli"}};
  auto y = engine::parse_experiment(yaml, "v.yaml", test::test_catalogue(), vars);
  CHECK(y.name == "given");
  CHECK(y.timeline.steps[0].parameters.text("run") == "echo ${HOME} cli");
  ::unsetenv("WHO");
}

TEST_CASE("all problems in a file are reported, not just the first", "[engine]") {
  auto problems = problems_of(R"yaml(version: 1
name: three
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
timeline:
  baseline: 10 seconds
  steps:
    - { at: 0s, for: 5s, fault: latency, target: pgg }
    - { at: 0s, for: 5s, fault: lateny, target: pg }
)yaml");
  REQUIRE(problems.size() == 3);
  CHECK_THAT(problems[0], Catch::StartsWith("t.yaml:6:13: timeline.baseline:"));
  CHECK_THAT(problems[1], Catch::StartsWith("t.yaml:8:50: timeline.steps[0].target:"));
  CHECK_THAT(problems[2], Catch::StartsWith("t.yaml:9:33: timeline.steps[1].fault:"));
}

TEST_CASE("resource quantities in rules name a probe that measures them", "[engine]") {
  const auto problems = [](const std::string& yaml) { return problems_of(yaml, {}, test::builtin_catalogue()); };
  const std::string head = R"yaml(version: 1
name: x
probes:
  shop: { process: { target: faultline-shop } }
  app: { cgroup: { path: system.slice/shop.service } }
  health: { tcp: { address: 127.0.0.1:80 } }
)yaml";
  const std::string tail = "timeline: { steps: [ { at: 0s, action: command, run: \"true\" } ] }\n";
  CHECK(problems(head + "steady_state: { require: [ \"shop.rss < 500MB\", \"shop.cpu < 150%\", \"app.memory < 1GB\", \"shop.ok\" ] }\n" + tail).empty());
  CHECK(problems(head + "steady_state: { require: [ \"health.rss < 500MB\" ] }\n" + tail) ==
        std::vector<std::string>{"t.yaml:7:28: steady_state.require[0]: tcp probe 'health' measures no 'rss'; process and cgroup probes do"});
  CHECK(problems(head + "steady_state: { require: [ \"app.rss < 500MB\" ] }\n" + tail) ==
        std::vector<std::string>{"t.yaml:7:28: steady_state.require[0]: cgroup probe 'app' measures no 'rss' (it measures: cpu_seconds, "
                                 "cpu, cpu_throttled_seconds, cpu_throttled_periods, memory, memory_high, memory_max, oom, oom_kills, pids)"});
  CHECK(problems(head + "steady_state: { require: [ \"shp.rss < 500MB\" ] }\n" + tail) ==
        std::vector<std::string>{"t.yaml:7:28: steady_state.require[0]: rule \"shp.rss < 500MB\" refers to 'shp', which is not a probe "
                                 "(did you mean 'shop'?)"});
}

TEST_CASE("settings.metrics: an address, loopback unless allowed", "[engine]") {
  const std::string tail = "timeline: { steps: [ { at: 0s, action: command, run: \"true\" } ] }\n";
  auto x = engine::parse_experiment("version: 1\nname: x\nsettings: { metrics: 127.0.0.1:9464 }\n" + tail, "t.yaml",
                                    test::test_catalogue(), {});
  REQUIRE(x.settings.metrics);
  CHECK(x.settings.metrics->to_string() == "127.0.0.1:9464");
  auto y = engine::parse_experiment(
      "version: 1\nname: x\nsettings: { metrics: { listen: 0.0.0.0:9464, allow_non_loopback: true } }\n" + tail, "t.yaml",
      test::test_catalogue(), {});
  CHECK(y.settings.metrics_allow_non_loopback);
  CHECK(problems_of("version: 1\nname: x\nsettings: { metrics: 0.0.0.0:9464 }\n" + tail) ==
        std::vector<std::string>{"t.yaml:3:22: settings.metrics: the metrics endpoint would listen on 0.0.0.0, which is not "
                                 "loopback; use 127.0.0.1 or write metrics: { listen: 0.0.0.0:9464, allow_non_loopback: true }"});
}

TEST_CASE("a load with a mix, values and rules on one request loads into the model", "[engine]") {
  auto x = engine::parse_experiment(R"yaml(version: 1
name: mix
load:
  http:
    url: http://127.0.0.1:8080
    rate: 200/s
    values:
      id: { range: [1, 1000] }
    requests:
      - { name: browse, weight: 70, url: "/orders/${id}" }
      - { name: checkout, weight: 30, method: POST, url: /checkout, body: '{"id": ${id}}', expect: { status: 201 } }
steady_state:
  require: [ "load.checkout.p95 < 300ms", "load.p95 < 200ms" ]
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml", "m.yaml", test::test_catalogue(), {});
  REQUIRE(x.load);
  REQUIRE(x.load->config);
  const auto& c = *x.load->config;
  REQUIRE(c.requests.size() == 2);
  CHECK(c.named_requests());
  CHECK(c.requests[0].weight == Approx(70));
  CHECK(c.requests[1].expect_status == 201u);
  CHECK(c.values.at(0).high == 1000);
  CHECK(x.steady_state.require[0].series == "load.checkout");
  CHECK(x.resolved_yaml.find("${id}") != std::string::npos);  // left for the generator, not a variable
}

TEST_CASE("levels and a capacity search load into the model", "[engine]") {
  auto levels = engine::parse_experiment(R"yaml(version: 1
name: levels
load:
  http: { url: http://127.0.0.1:8080/, think_time: 100ms }
  levels:
    - { users: 100, for: 1m, require: [ "load.p95 < 50ms" ] }
    - { name: peak, rate: 800/s, for: 30s }
)yaml", "l.yaml", test::test_catalogue(), {});
  REQUIRE(levels.levels.size() == 2);
  CHECK(levels.levels[0].name == "100-users");
  CHECK(levels.levels[0].stage.think_time == 100ms);
  CHECK(levels.levels[1].stage.rate_from == Approx(800));
  REQUIRE(levels.load->shape.size() == 2);
  CHECK(levels.load->shape[0].duration == 1min);

  auto cap = engine::parse_experiment(R"yaml(version: 1
name: capacity
proxies:
  pg: { listen: 127.0.0.1:15432, upstream: 127.0.0.1:5432 }
load:
  http: { url: http://127.0.0.1:8080/ }
  capacity: { from: 50/s, trial: 5s, warmup: 1s, require: [ "load.p99 < 100ms" ] }
timeline:
  steps: [ { at: 0s, for: 10s, fault: latency, target: pg, latency: 500ms } ]
expect:
  capacity: { at_least: 800/s, under_fault: { at_least: 200/s } }
)yaml", "c.yaml", test::test_catalogue(), {});
  CHECK(cap.is_capacity_run());
  CHECK(cap.capacity.from == Approx(50));
  CHECK(cap.capacity.trial == 5s);
  CHECK(cap.capacity.up_to == Approx(20000));  // the default
  REQUIRE(cap.capacity.require.size() == 1);
  CHECK(cap.expect.capacity->at_least == Approx(800));
  CHECK(cap.expect.capacity->under_fault_at_least == Approx(200));
}

TEST_CASE("mixes, journeys, levels and capacity errors are exact and positioned", "[engine]") {
  const std::vector<bad_experiment> cases{
      {"request-level keys at the load's level, a statistic as a name, journey keys in a mix",
       R"yaml(version: 1
name: bad
load:
  http:
    url: http://127.0.0.1:8080
    rate: 10/s
    method: POST
    requests:
      - { name: p95, url: /a }
      - { name: b, url: /b, repeat: 2 }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
       {"t.yaml:7:13: load.http.method: 'method' belongs to each of the requests; move it there",
        "t.yaml:9:17: load.http.requests[0].name: 'p95' cannot name a request: load.p95 reads as the statistic p95 of the "
        "whole load; rename it, e.g. 'p95-page'",
        "t.yaml:10:37: load.http.requests[1].repeat: 'repeat' is for the steps of a journey"}},
      {"request names whose series another series has or reads as: the WebSocket load's, resource quantities",
       R"yaml(version: 1
name: bad
load:
  http:
    url: http://127.0.0.1:8081
    users: 3
    journey:
      - { name: websocket, url: /ws }
      - { name: rss, url: /a }
      - { name: memory, url: /m }
      - { name: tcp_established, url: /t }
      - { name: rss-page, url: /b }
      - { name: Websocket, url: /b }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
       {"t.yaml:8:17: load.http.journey[0].name: 'websocket' cannot name a request: load.websocket is the series of the "
        "WebSocket load (load.websocket:); rename it, e.g. 'websocket-page'",
        "t.yaml:9:17: load.http.journey[1].name: 'rss' cannot name a request: load.rss reads as the resource quantity rss "
        "of a probe named load (as shop.rss does for a process or cgroup probe named shop); rename it, e.g. 'rss-page'",
        "t.yaml:10:17: load.http.journey[2].name: 'memory' cannot name a request: load.memory reads as the resource "
        "quantity memory of a probe named load (as shop.memory does for a process or cgroup probe named shop); rename it, "
        "e.g. 'memory-page'",
        "t.yaml:11:17: load.http.journey[3].name: 'tcp_established' cannot name a request: load.tcp_established reads as "
        "the resource quantity tcp_established of a probe named load (as shop.tcp_established does for a process or "
        "cgroup probe named shop); rename it, e.g. 'tcp_established-page'"}},
      {"weights in a journey, a malformed capture, a rule on a request that does not exist",
       R"yaml(version: 1
name: bad
load:
  http:
    url: http://127.0.0.1:8080
    users: 2
    journey:
      - { name: a, url: "/a", weight: 2 }
      - { name: b, url: /b, capture: { token: { jsn: /t } } }
steady_state: { require: [ "load.c.p95 < 1s" ] }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
       {"t.yaml:8:39: load.http.journey[0].weight: a journey runs its steps in order; 'weight' is for a mix of requests:",
        "t.yaml:9:47: load.http.journey[1].capture.token: capture 'token' takes one of json: /pointer or header: Name",
        "t.yaml:9:49: load.http.journey[1].capture.token.jsn: unknown key 'jsn' in capture 'token' (did you mean 'json'?)",
        "t.yaml:10:28: steady_state.require[0]: rule \"load.c.p95 < 1s\" refers to request 'c', which the load does not "
        "have (did you mean 'load.a'?)"}},
      {"a captured value used before it is captured",
       R"yaml(version: 1
name: bad
load:
  http:
    url: http://127.0.0.1:8080
    users: 5
    journey:
      - { name: a, url: "/a/${token}" }
      - { name: b, url: /b, capture: { token: { json: /t } } }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
       {"t.yaml:8:25: load.http.journey[0].url: '${token}' is used before the step that captures it; a journey's steps run "
        "in order"}},
      {"a journey at an arrival rate",
       R"yaml(version: 1
name: bad
load:
  http: { url: http://127.0.0.1:8080, rate: 5/s, journey: [ { name: a, url: /a } ] }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
       {"t.yaml:4:59: load.http.journey: a journey is what each virtual user does: give the load users (or user stages), "
        "not a rate; for an arrival rate use a mix of requests:"}},
      {"a request on another host",
       R"yaml(version: 1
name: bad
load:
  http:
    url: http://127.0.0.1:8080
    rate: 5/s
    requests: [ { name: a, url: /a }, { name: b, url: "http://127.0.0.1:9/b" } ]
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
       {"t.yaml:7:55: load.http.requests[1].url: 'http://127.0.0.1:9/b' is on 127.0.0.1:9, the load's url on "
        "127.0.0.1:8080; all requests of a load share its connections, so they go to one host and port"}},
      {"levels with a shape, a timeline and steady state; a level without for, with users and rate, named twice",
       R"yaml(version: 1
name: bad
load:
  http: { url: http://127.0.0.1:8080, rate: 10/s }
  levels:
    - { users: 10 }
    - { users: 10, rate: 5/s, for: 1s }
    - { name: x, users: 10, for: 1s }
    - { name: x, rate: 10/s, for: 1s }
steady_state: { require: [ "load.p95 < 1s" ] }
timeline: { steps: [ { at: 0s, action: command, run: "true" } ] }
)yaml",
       {"t.yaml:4:9: load.http: the levels give the load its shape; remove rate, users and stages from load.http",
        "t.yaml:6:7: load.levels[0]: level 1 is missing the required key 'for' (how long it holds, e.g. for: 60s)",
        "t.yaml:7:7: load.levels[1]: level 2 needs one of users (e.g. 500) or rate (e.g. 800/s)",
        "t.yaml:9:7: load.levels[3]: two levels are named 'x'; name them apart with name:",
        "t.yaml:10:15: steady_state: an experiment with load.levels judges each level by its own 'require'; remove "
        "'steady_state'",
        "t.yaml:11:11: timeline: an experiment with load.levels runs its levels in place of a fault timeline; remove "
        "'timeline' (to measure under a fault, search the capacity with expect.capacity)"}},
      {"a capacity without rules, under fault without faults, with timeline expectations, bounds the wrong way",
       R"yaml(version: 1
name: bad
load:
  http: { url: http://127.0.0.1:8080 }
  capacity: { from: 100/s, up_to: 10/s }
expect:
  capacity: { at_least: 800/s, under_fault: { at_least: 1/s } }
  mttr: { below: 1s }
)yaml",
       {"t.yaml:5:35: load.capacity.up_to: up_to must be at least from",
        "t.yaml:7:13: expect.capacity: a capacity is the highest rate at which rules hold; add steady_state.require or "
        "load.capacity.require",
        "t.yaml:7:45: expect.capacity.under_fault: the capacity under fault is searched while the timeline's faults are "
        "active; add a timeline with at least one fault step",
        "t.yaml:8:9: expect.mttr: a capacity experiment is judged on its capacity; expect.mttr belongs to a fault timeline "
        "run (use a separate experiment)"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(problems_of(c.yaml) == c.expected);
  }
}

TEST_CASE("load.websocket loads beside or instead of the http load, and its rules need it", "[engine]") {
  const std::string both = R"yaml(version: 1
name: ws
load:
  http: { url: http://127.0.0.1:8080/health, rate: 10/s }
  websocket: { url: ws://127.0.0.1:8080/orders/live, sessions: 400, ramp: 2s, rate: 1/s, match: /id }
steady_state:
  for: 1s
  require: [ "load.p95 < 100ms", "load.websocket.p95 < 100ms", "load.websocket.sessions.error_rate < 1%" ]
timeline:
  steps:
    - { at: 0s, action: command, run: "true" }
)yaml";
  const auto x = engine::parse_experiment(both, "t.yaml", test::test_catalogue(), {});
  REQUIRE(x.load);
  REQUIRE(x.websocket_load);
  CHECK(x.websocket_load->parameters.integer("sessions") == 400);
  CHECK(x.steady_state.require.at(2).series == "load.websocket.sessions");

  const std::string only = R"yaml(version: 1
name: ws
load:
  websocket: { url: ws://127.0.0.1:8080/live, sessions: 5 }
steady_state:
  for: 1s
  require: [ "load.websocket.p95 < 100ms" ]
timeline:
  steps:
    - { at: 0s, action: command, run: "true" }
)yaml";
  const auto y = engine::parse_experiment(only, "t.yaml", test::test_catalogue(), {});
  CHECK_FALSE(y.load);
  CHECK(y.websocket_load);

  struct bad {
    const char* what;
    std::string yaml;
    const char* message;
  };
  for (const auto& b : std::vector<bad>{
           {"an http url", "load:\n  websocket: { url: http://127.0.0.1/, sessions: 5 }\n",
            "load.websocket.url: 'http://127.0.0.1/' is not a usable URL: it must start with ws://"},
           {"an unknown key", "load:\n  websocket: { url: ws://127.0.0.1/, sessions: 5, clients: 3 }\n",
            "unknown key 'clients' in the websocket load"},
           {"match without an id in the message",
            "load:\n  websocket: { url: ws://127.0.0.1/, sessions: 5, message: ping, match: /id }\n",
            "load.websocket.match: match: /id pairs replies by the id they echo, but the message has no {{id}} to echo"},
           {"a websocket rule without the section",
            "load:\n  http: { url: http://127.0.0.1/, rate: 1/s }\nsteady_state: { for: 1s, require: [ \"load.websocket.p95 < 1s\" ] }\n",
            "uses 'load.websocket' but the experiment has no load.websocket section"},
       }) {
    INFO(b.what);
    const auto problems =
        problems_of("version: 1\nname: x\n" + b.yaml + "timeline:\n  steps:\n    - { at: 0s, action: command, run: \"true\" }\n");
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems.front(), Catch::Contains(b.message));
  }
}
