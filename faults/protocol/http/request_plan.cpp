#include "faults/protocol/http/request_plan.hpp"

namespace faultline::protocol::http {

using stage = proxy::route_counters::stage;

request_plan plan_request(proxy::session_io& io, const request_view& request) {
  request_plan plan;
  if (io.message_toxics().empty()) return plan;
  const auto route = request.route();
  for (const auto& t : io.message_toxics()) {
    const auto* toxic = dynamic_cast<const request_toxic*>(t.config.get());
    if (!toxic) continue;
    auto& routes = t.counters->routes;
    routes.count(route, stage::seen);
    const bool chosen = chooses(
        t,
        [&] {
          if (!toxic->matches(request)) return false;
          routes.count(route, stage::matched);
          return true;
        },
        io.random());
    if (!chosen) continue;
    if (const auto* d = dynamic_cast<const http_delay_toxic*>(toxic)) {
      (d->hold() == hold_point::request ? plan.before_request : plan.before_response).add(t, d->draw(io.random()));
      routes.count(route, stage::affected);
      continue;
    }
    if (const auto* g = dynamic_cast<const grpc_delay_toxic*>(toxic)) {
      (g->hold() == hold_point::request ? plan.before_request : plan.before_response).add(t, g->draw(io.random()));
      routes.count(route, stage::affected);
      continue;
    }
    if (const auto* c = dynamic_cast<const http_reset_toxic*>(toxic)) {
      if (!plan.cut) plan.cut = cut_plan{c->after(), c->reset(), t.counters, route};
      continue;  // counted when the cut happens
    }
    if (plan.answer) continue;  // one answer per request: the first toxic that chose it gives it
    if (const auto* a = dynamic_cast<const http_abort_toxic*>(toxic)) {
      plan.answer = a->answer();
    } else if (const auto* g = dynamic_cast<const grpc_abort_toxic*>(toxic)) {
      plan.answer = g->answer();
    } else if (const auto* r = dynamic_cast<const http_rate_limit_toxic*>(toxic)) {
      auto wait = r->admit(io.now());
      if (!wait) continue;  // within the rate: let through, not acted on
      plan.answer = r->refusal(*wait);
    } else {
      continue;
    }
    count_affected(*t.counters);
    routes.count(route, stage::affected);
  }
  if (plan.answer) plan.cut.reset();  // nothing to cut: the server never answers
  return plan;
}

// A local answer goes out after both holds the toxics chose.
std::pair<proxy::time_point, reply_queue::holder_ptr> answer_time(request_plan& plan, proxy::session_io& io) {
  const auto now = io.now();
  auto at = now;
  reply_queue::holder_ptr holder;
  for (auto* hold : {&plan.before_request, &plan.before_response}) {
    if (hold->empty()) continue;
    at += hold->start(io) - now;
    if (!holder) holder = hold->holder();
  }
  return {holder ? at : proxy::time_point{}, holder};
}

void count_response_cut(const cut_plan& cut, bool connection_cut) {
  count_affected(*cut.counters);
  cut.counters->routes.count(cut.route, stage::affected);
  if (connection_cut) count_cut(*cut.counters, cut.reset);
}

}  // namespace faultline::protocol::http
