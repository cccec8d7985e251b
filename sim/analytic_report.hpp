// The report's `analytic` section: where a run is expressible as a queueing model, the exact
// prediction (models/analytic/prediction.hpp) beside the figure the simulation measured.
//
// PRQ as M/M/c/K: applies when exactly one path in the scenario can send page requests (a
// fault-tolerant path of a PRI device), its arrivals are Poisson and its domain is a
// shared_tdp whose fault_cost is exponential. c = host.cores, K = iommu.prq_depth, lambda =
// the path's rate; the service mean = fault_cost's mean + zeroing one 4 KiB page (at
// host.zero_bandwidth) + irq_latency's mean. Predicted response = the M/M/c/K response + the
// PRQ-to-host hand-off (the root-complex link, 100 ns in sim/engine.cpp), during which a
// request holds its entry but no handler. Simulated: blocking = PRQ overflows / page request
// groups that reached the PRQ; response = mean time from taking an entry to the response.
// The prediction is exact (`exact`: true, `departures` empty) when, besides the above: every
// DMA faults on a fresh page (pattern sequential, access_size 4KiB, 4 KiB fault pages, the
// region holds every DMA the run issued, nothing resident at start, no other path on the
// domain), prg_pages 1, no retries (prq_overflow drop with pri_timeout past the run's end),
// pri_outstanding > K + lost requests + handlers (a lost request keeps its slot),
// prq_handling 0, irq_latency 0, zeroing rounds to 0 ns, and either one handler (c = 1) or
// host.fault_batch 1. The device's PCIe latency is a constant delay outside the queue (it
// shifts arrivals, which stay Poisson); the 100 ns hand-off holds an entry before a handler can
// take the request, which the chain ignores (0.5 % of a 20 us service; scenarios/prq-mmck.json
// measures blocking within 2 % of the chain at 10^6 requests). Each condition that fails is
// listed in `departures`, and the prediction is then an approximation.
// LRU: applies to a scenario with one domain, one path in all, pattern random, ATS off (every
// DMA looks up the IOTLB), a domain that never faults (pinned) mapped with 4 KiB pages, and no
// scripted invalidations: C = iommu.iotlb.entries_4k, N = the region's 4 KiB pages; simulated
// hit rate = IOTLB hits / lookups. Departures: set associativity (ways_4k < entries_4k), a
// policy other than lru, a region not aligned to 4 KiB.
// Does not model: several page-request paths (a superposition of Poisson sources is Poisson,
// but their faults differ), the IOTLB of ATS devices, 2 MiB and 1 GiB pages.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <string>

namespace iopf {

struct System;
struct EngineStats;

// {"prq": {...}, "iotlb": {...}} with what applies, or null when nothing does. Each part:
// {"predicted": {...}, "simulated": {...}, "exact": bool, "departures": [strings]}.
nlohmann::json analytic_json(const System& sys, const EngineStats& st);

// Lines for the terminal: each prediction beside the simulated figure.
std::string format_analytic(const nlohmann::json& analytic);

}  // namespace iopf
