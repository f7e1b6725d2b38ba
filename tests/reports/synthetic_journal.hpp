#pragma once
// A realistic journal with known numbers, for the report tests and the documentation screenshot:
// a 57 s run of an orders API at 200 requests/s; a PostgreSQL latency fault (15 s..45 s) breaks
// the steady state from the window at 16 s (MTTD 1 s) and opens the circuit breaker after 2 s; a
// Redis outage (25 s..35 s) inside it makes cache misses fail; a half-open trial at 27 s re-opens
// (one flap); a runbook action at 38 s; after the last revert the breaker closes in 3 s and the
// service is steady again 4 s after it (MTTR 4 s). Expectations are named, worded and weighted as
// engine/analysis makes them; the SLA (gold) is missed with bronze: verdict "failed", score 77.8.

#include "reports/journal.hpp"

namespace faultline::test {

reports::journal synthetic_journal();

// An http_rate_limit fault on `payments` (15 s..21 s) whose evidence counts requests by route:
// POST /payments 2,990 seen, 2,990 matched, 2,960 refused; GET /health 20 seen, none matched.
reports::fault_record http_fault_with_routes();

}  // namespace faultline::test
