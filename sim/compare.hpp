// `iopfsim compare BASE NEW [--threshold 5%]`: the metrics that changed between two reports,
// for CI gating. A metric regresses when it moves the wrong way (latency up, throughput down)
// by more than the threshold; counts and sizes are shown but never regress.
#pragma once
#include <iosfwd>
#include <string>

namespace iopf {

// "5%", "5" (both five percent) or "0.5%"; InputError otherwise.
double parse_threshold_percent(const std::string& text);

// Prints the table to `out`; returns 1 when a metric regressed past the threshold, else 0.
// InputError (exit 2) when a file is missing or not a report, or the two share no metric.
int compare_reports(const std::string& base_file, const std::string& new_file, double threshold_percent,
                    std::ostream& out);

}  // namespace iopf
