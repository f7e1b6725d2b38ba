#pragma once
// The results of load tests in the reports: one row per level of `load.levels`, and each capacity
// search as a table of its trials and a curve of p99 and errors against the arrival rate. Drawn
// from the journal's analysis alone; empty strings when the run had no levels or no search.

#include "reports/journal.hpp"

#include <string>

namespace faultline::reports {

std::string levels_markdown(const analysis_record& a);
std::string capacity_markdown(const analysis_record& a);

// HTML sections (<section class="card">). The capacity curve is an <svg> whose panel carries its
// scales as data attributes (data-x-domain, data-x-range, data-y-domain, data-y-range, as the
// timeline figure's panels do) and one <path data-series="healthy|under_fault"> per search, with a
// <circle data-rate=R data-p99=S> per trial that measured a p99.
std::string levels_html(const analysis_record& a);
std::string capacity_html(const analysis_record& a);

}  // namespace faultline::reports
