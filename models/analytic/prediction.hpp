// Analytic predictions ready to print beside the simulated figures (issue 10, item 5): the
// PRQ as an M/M/c/K queue and the IOTLB as a fully associative LRU under uniform access.
// Nothing here reads a scenario or a report; the engine owner maps scenario keys onto the
// inputs and decides when a scenario satisfies the assumptions.
//
// Models (PRQ): K = the PRQ's entries (iommu.prq_depth): the simulator holds an entry from
// the request's arrival until its response is sent (sim/fault_handling.cpp), so K counts
// waiting and in-service requests as M/M/c/K does; c = the fault handler threads (capped at
// K, since at most K requests are present); lambda = Poisson page requests per second; the
// service time = everything a handler holds a request for (fault cost, interrupt latency),
// exponential with the given mean. A blocked request is an overflow (drop or auto_success).
// Does not model: the serial prq_handling step before the handlers, handler batching
// (host.fault_batch > 1 with c > 1), multi-page groups (prg_pages > 1 takes several entries), device retries
// and the PRI outstanding limit: a scenario built for the cross-check makes these negligible.
// Models (IOTLB): hit rate C / N for C entries (fully associative LRU) and N pages referenced
// uniformly at random, with Che's approximation alongside (equal for uniform access).
// Does not model: set associativity, invalidations, several page sizes.
// Figures: none.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

#include "models/analytic/mmck.hpp"

namespace iopf::analytic {

struct PrqModel {
  uint32_t handler_threads = 1;   // c
  uint32_t queue_entries = 1;     // K
  double request_rate_per_s = 0;  // lambda, Poisson
  double service_mean_ns = 0;     // 1 / mu, exponential
};

struct PrqPrediction {
  PrqModel model;
  uint32_t servers = 0;      // min(c, K)
  double offered_load = 0;   // lambda / mu, in busy handlers
  MmckResult mmck;

  // {"model": "M/M/c/K", "servers", "capacity", "request_rate_per_s", "service_mean_ns",
  //  "offered_load", "blocking_probability", "throughput_per_s", "mean_response_ns",
  //  "mean_wait_ns", "mean_depth", "utilization"}
  nlohmann::json to_json() const;
  std::string describe() const;  // one line for the terminal summary
};

// Throws std::invalid_argument on a rate or mean that is not > 0, or no threads or entries.
PrqPrediction predict_prq(const PrqModel& m);

struct LruPrediction {
  uint64_t entries = 0;  // C
  uint64_t pages = 0;    // N
  double hit_rate = 0;   // C / N, exact under uniform access
  double che_hit_rate = 0;

  // {"model": "LRU, uniform IRM", "entries", "pages", "hit_rate", "che_hit_rate"}
  nlohmann::json to_json() const;
  std::string describe() const;
};

// entries > 0, pages > 0 (Che is computed up to 2^16 pages, beyond which it is set equal: for
// uniform access it is exactly C / N).
LruPrediction predict_lru_uniform(uint64_t entries, uint64_t pages);

}  // namespace iopf::analytic
