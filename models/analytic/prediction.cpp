#include "models/analytic/prediction.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "models/analytic/lru.hpp"

namespace iopf::analytic {

PrqPrediction predict_prq(const PrqModel& m) {
  if (m.handler_threads == 0 || m.queue_entries == 0) throw std::invalid_argument("prq: no handler threads or entries");
  if (!(m.request_rate_per_s > 0) || !(m.service_mean_ns > 0))
    throw std::invalid_argument("prq: request rate and service mean must be > 0");
  PrqPrediction p;
  p.model = m;
  p.servers = std::min(m.handler_threads, m.queue_entries);
  const double mu = 1e9 / m.service_mean_ns;
  p.offered_load = m.request_rate_per_s / mu;
  p.mmck = solve_mmck(m.request_rate_per_s, mu, p.servers, m.queue_entries);
  return p;
}

nlohmann::json PrqPrediction::to_json() const {
  return {{"model", "M/M/c/K"},
          {"servers", servers},
          {"capacity", model.queue_entries},
          {"request_rate_per_s", model.request_rate_per_s},
          {"service_mean_ns", model.service_mean_ns},
          {"offered_load", offered_load},
          {"blocking_probability", mmck.blocking_probability},
          {"throughput_per_s", mmck.throughput_per_s},
          {"mean_response_ns", mmck.mean_response_ns},
          {"mean_wait_ns", mmck.mean_wait_ns},
          {"mean_depth", mmck.mean_in_system},
          {"utilization", mmck.utilization}};
}

std::string PrqPrediction::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "PRQ as M/M/%u/%u (load %.3f): blocking %.6g, accepted %.6g/s, mean response %.1f ns "
                "(wait %.1f ns), mean depth %.3f",
                servers, model.queue_entries, offered_load, mmck.blocking_probability, mmck.throughput_per_s,
                mmck.mean_response_ns, mmck.mean_wait_ns, mmck.mean_in_system);
  return buf;
}

LruPrediction predict_lru_uniform(uint64_t entries, uint64_t pages) {
  if (entries == 0 || pages == 0) throw std::invalid_argument("lru: entries and pages must be > 0");
  LruPrediction p;
  p.entries = entries;
  p.pages = pages;
  p.hit_rate = lru_hit_rate_uniform(entries, pages);
  p.che_hit_rate = pages <= (1u << 16) ? lru_hit_rate_che(std::vector<double>(pages, 1.0), entries).hit_rate : p.hit_rate;
  return p;
}

nlohmann::json LruPrediction::to_json() const {
  return {{"model", "LRU, uniform IRM"},
          {"entries", entries},
          {"pages", pages},
          {"hit_rate", hit_rate},
          {"che_hit_rate", che_hit_rate}};
}

std::string LruPrediction::describe() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "IOTLB as LRU of %llu entries over %llu uniform pages: hit rate %.6f (Che %.6f)",
                static_cast<unsigned long long>(entries), static_cast<unsigned long long>(pages), hit_rate,
                che_hit_rate);
  return buf;
}

}  // namespace iopf::analytic
