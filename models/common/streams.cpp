#include "models/common/streams.hpp"

#include <algorithm>
#include <initializer_list>

namespace iopf::streams {

namespace {

// FNV-1a over the tag and each field, each followed by a 0 byte (so "ab","c" != "a","bc").
uint64_t identity(std::initializer_list<std::string_view> fields) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (std::string_view f : fields) {
    for (unsigned char c : f) h = (h ^ c) * 0x100000001b3ULL;
    h = (h ^ 0) * 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

uint64_t domain_setup(std::string_view domain) { return identity({"domain_setup", domain}); }
uint64_t path(std::string_view device, std::string_view path) { return identity({"path", device, path}); }
uint64_t arrivals(std::string_view device, std::string_view path) { return identity({"arrivals", device, path}); }
uint64_t fault_costs(std::string_view domain) { return identity({"fault_costs", domain}); }
uint64_t irq_latency() { return identity({"irq_latency"}); }
uint64_t vcpu(std::string_view domain, uint32_t vcpu) { return identity({"vcpu", domain, std::to_string(vcpu)}); }
uint64_t migration(std::string_view domain) { return identity({"migration", domain}); }
uint64_t collapse(std::string_view domain) { return identity({"collapse", domain}); }
uint64_t scripted_source(std::string_view source) { return identity({"scripted_source", source}); }

std::pair<size_t, size_t> first_collision(const std::vector<uint64_t>& ids) {
  std::vector<size_t> order(ids.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });
  for (size_t i = 1; i < order.size(); ++i)
    if (ids[order[i]] == ids[order[i - 1]]) return {order[i - 1], order[i]};
  return {0, 0};
}

}  // namespace iopf::streams
