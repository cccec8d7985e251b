// The capacity-planning study scenarios/sweeps/overcommit.json, run whole (51 runs of 10 ms
// simulated, about 12 s with -j 2): pin_all cannot overcommit (its points below the guest's
// 96 MiB are bad input, listed with their message), the other policies run everywhere, fault
// where memory is short, and pinning the intolerant ring keeps it from dropping.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli_helpers.hpp"

namespace fs = std::filesystem;

namespace {

// Rows of a CSV file without quoted commas in the columns read here (split on ',').
std::vector<std::vector<std::string>> rows(const std::string& path, std::vector<std::string>* header) {
  std::istringstream in(slurp(path));
  std::vector<std::vector<std::string>> out;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    if (header->empty()) *header = f;
    else out.push_back(f);
  }
  return out;
}

size_t col(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  ADD_FAILURE() << "no column " << name;
  return 0;
}

TEST(Study, OvercommitSweepAnswersWithPinAllFailingBelowTheGuest) {
  const std::string out = temp_path("overcommit");
  fs::remove_all(out);
  const CmdResult r = run_iopfsim(std::string("sweep ") + IOPFSIM_SOURCE_DIR + "/scenarios/sweeps/overcommit.json -j 2 --out " + out);
  EXPECT_EQ(r.status, 1) << r.err;  // the pin_all points below 96 MiB fail, by design
  EXPECT_NE(r.err.find("63 runs (21 points x 3 replicas): 51 run, 0 resumed, 12 failed"), std::string::npos) << r.err;
  std::vector<std::string> h;
  const auto pts = rows(out + "/points.csv", &h);
  ASSERT_EQ(pts.size(), 63u);
  const size_t pol = col(h, "policy"), mem = col(h, "host_memory"), st = col(h, "exit_status"),
               prq = col(h, "nic/rx_payload/page_requests"), drop = col(h, "nic/rx_ring/dma.failed");
  const std::vector<std::string> over{"88MiB", "80MiB", "72MiB", "64MiB"};
  double fault_all_drops = 0;
  for (const auto& row : pts) {
    const bool overcommitted = std::find(over.begin(), over.end(), row[mem]) != over.end();
    if (row[pol] == "pin_all" && overcommitted) {
      EXPECT_EQ(row[st], "2") << row[mem];
      continue;
    }
    ASSERT_EQ(row[st], "0") << row[pol] << " " << row[mem];
    if (row[pol] == "pin_all") {
      EXPECT_EQ(row[prq], "0");  // everything pinned: no page request
    }
    if (row[pol] != "pin_all" && overcommitted) {
      EXPECT_GT(std::stod(row[prq]), 0) << row[pol] << " " << row[mem];
    }
    if (row[pol] == "pin_intolerant_paths") {
      EXPECT_EQ(row[drop], "0") << row[mem];  // the ring is pinned
    }
    if (row[pol] == "fault_all") fault_all_drops += std::stod(row[drop]);
  }
  EXPECT_GT(fault_all_drops, 0);  // under enough pressure the faultable ring drops
  const std::string failed = slurp(out + "/failed.csv");
  EXPECT_NE(failed.find("pinned memory is never reclaimed, so it cannot be overcommitted"), std::string::npos) << failed;
  fs::remove_all(out);
}

}  // namespace
