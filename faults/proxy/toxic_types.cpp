#include "faults/proxy/toxic_types.hpp"

namespace faultline::proxy {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

// Every toxic acts on one direction and on a share of connections, applied by the link.
param_schema with_common(param_schema own) {
  own.push_back({"stream", param_kind::choice, "direction: downstream (server -> client) or upstream (client -> server)",
                 std::string("downstream"), false, {}, {}, {"downstream", "upstream"}});
  own.push_back({"toxicity", param_kind::fraction, "share of connections affected (0..1 or %)", 1.0, false, 0.0, 1.0});
  return own;
}

faults::fault_type toxic(std::string name, std::string summary, param_schema own) {
  faults::fault_type t;
  t.name = std::move(name);
  t.summary = std::move(summary);
  t.family = "proxy";
  t.target = faults::target_kind::proxy;
  t.params = with_common(std::move(own));
  return t;
}

}  // namespace

std::vector<faults::fault_type> toxic_fault_types() {
  std::vector<faults::fault_type> out;
  out.push_back(toxic("latency", "delay data by latency +/- jitter", {
      {"latency", param_kind::duration, "added delay", nanoseconds(0), false, 0.0},
      {"jitter", param_kind::duration, "uniform +/- variation", nanoseconds(0), false, 0.0},
  }));
  out.push_back(toxic("bandwidth", "limit throughput (0 passes nothing)", {
      {"rate", param_kind::bandwidth, "bytes per second (KB = 1000 bytes)", {}, true, 0.0},
  }));
  out.push_back(toxic("slow_close", "delay the close of the connection", {
      {"delay", param_kind::duration, "delay before the close is passed on", nanoseconds(0), false, 0.0},
  }));
  out.push_back(toxic("timeout", "stop all data and close after the timeout (0: never close)", {
      {"timeout", param_kind::duration, "time before the connection is closed", nanoseconds(0), false, 0.0},
  }));
  out.push_back(toxic("reset_peer", "reset the connection (RST) after the timeout", {
      {"timeout", param_kind::duration, "time before the reset", nanoseconds(0), false, 0.0},
  }));
  out.push_back(toxic("slicer", "cut data into small pieces with a delay between them", {
      {"average_size", param_kind::size, "average piece size", std::int64_t(1), false, 1.0},
      {"size_variation", param_kind::size, "piece size variation", std::int64_t(0), false, 0.0},
      {"delay", param_kind::duration, "delay between pieces", nanoseconds(0), false, 0.0},
  }));
  out.push_back(toxic("limit_data", "close the connection after a number of bytes", {
      {"bytes", param_kind::size, "bytes passed before the close", {}, true, 0.0},
  }));
  out.push_back(toxic("blackhole", "accept connections and forward nothing, never close", {}));
  faults::fault_type down;
  down.name = "down";
  down.summary = "refuse new connections and drop existing ones";
  down.family = "proxy";
  down.target = faults::target_kind::proxy;
  down.exclusive = true;
  out.push_back(std::move(down));
  return out;
}

}  // namespace faultline::proxy
