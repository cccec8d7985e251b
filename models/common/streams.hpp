// Random stream ids, derived from the identity of the stream's owner: a tag naming what the
// owner is, and its names (domain, device, path, source) and index (vCPU). Names are unique
// where they must be (the loader checks), so no two owners share an identity; the id is a
// 64-bit FNV-1a hash of it, and the loader also checks that a scenario's ids are distinct
// (check_streams_distinct), so no two streams collide in any scenario it accepts. Adding or
// renaming one owner changes no other owner's stream.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iopf::streams {

uint64_t domain_setup(std::string_view domain);  // which pages start resident
uint64_t path(std::string_view device, std::string_view path);      // addresses
uint64_t arrivals(std::string_view device, std::string_view path);  // due times (not periodic)
uint64_t fault_costs(std::string_view domain);
uint64_t irq_latency();  // the host's fault handler wake-ups  // fault_cost / major_fault_cost samples
uint64_t vcpu(std::string_view domain, uint32_t vcpu);
uint64_t migration(std::string_view domain);
uint64_t collapse(std::string_view domain);
uint64_t scripted_source(std::string_view source);

// Two owners whose ids are equal, as indices into ids ({earlier, later} in ids' order), or
// {0, 0} when every id is distinct.
std::pair<size_t, size_t> first_collision(const std::vector<uint64_t>& ids);

}  // namespace iopf::streams
