#pragma once
// The one selection step of the http session: every http toxic is offered the request in the order they were added (counted as
// seen, matched and acted on, by route), and what they chose is gathered into a plan: answer
// it here, hold the request or the response, cut the response short.

#include "faults/protocol/http/http_toxics.hpp"
#include "faults/protocol/message_toxic.hpp"
#include "faults/protocol/reply_queue.hpp"
#include "faults/proxy/protocol.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace faultline::protocol::http {

// http_reset's cut of one response.
struct cut_plan {
  std::uint64_t after = 0;  // response body bytes passed before the cut
  bool reset = true;        // connection cuts: RST, not FIN
  counters_ptr counters;
  std::string route;
};

struct request_plan {
  std::optional<local_answer> answer;  // the client gets this; the server never sees the request
  reply_hold before_request;           // held before it goes to the server
  reply_hold before_response;          // the response (or the answer) held before it goes to the client
  std::optional<cut_plan> cut;

  bool acts() const { return answer || !before_request.empty() || !before_response.empty() || cut; }
};

// Offers the request to the connection's http toxics. Answers and the rate limiter's
// refusals count as acted on here; delays when they start (reply_hold), cuts when they happen
// (count_response_cut).
request_plan plan_request(proxy::session_io& io, const request_view& request);

// When a local answer goes out: after both holds the toxics chose (counted as applied here), and
// the toxic it is held for (none: at once).
std::pair<proxy::time_point, reply_queue::holder_ptr> answer_time(request_plan& plan, proxy::session_io& io);

// A response was cut as planned.
void count_response_cut(const cut_plan& cut, bool connection_cut);

}  // namespace faultline::protocol::http
