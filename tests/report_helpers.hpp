// A scenario run to its JSON report, and lookups in it, for the tests that read reports.
// Each run is its own process (cli_helpers.hpp).
#pragma once
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

#include "cli_helpers.hpp"

// `iopfsim run FILE --checker --quiet --report R EXTRA`: expects exit 0, returns the report.
inline nlohmann::json run_report(const std::string& scenario_file, const std::string& extra = "") {
  const std::string report = temp_path("report.json");
  const CmdResult r = run_iopfsim("run " + scenario_file + " --checker --quiet --report " + report + " " + extra);
  EXPECT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(slurp(report));
  std::remove(report.c_str());
  return j;
}

// The element of a report's array (domains, devices, paths) with that name.
inline const nlohmann::json& named(const nlohmann::json& list, const std::string& name) {
  for (const nlohmann::json& e : list)
    if (e["name"] == name) return e;
  throw std::runtime_error("nothing named " + name);
}

inline uint64_t u(const nlohmann::json& j) { return j.get<uint64_t>(); }
