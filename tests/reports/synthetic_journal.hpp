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

}  // namespace faultline::test
