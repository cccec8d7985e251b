// Replayed workloads in a scenario: see sim/replay_workload.hpp.
#include "sim/replay_workload.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "models/common/input_error.hpp"
#include "models/domain/kinds.hpp"
#include "sim/scenario.hpp"

namespace iopf {

const ParamTable kReplayWorkloadTable{
    "workload (replay)",
    {
        {"replay", ParamType::String, nullptr,
         "trace-cmd report text of iommu:map, iommu:unmap and iommu:io_page_fault events (relative to the "
         "scenario): maps and faults become DMAs at their IOVA and time, unmaps scripted zaps",
         ""},
        {"access_size", ParamType::Bytes, "64", "bytes per DMA (power of two, at most 4 KiB)", "chosen", "", 1, 4096},
        {"op", ParamType::Enum, "\"read\"", "DMA direction of every replayed DMA", "", enum_choices(kDmaOpNames)},
        {"start", ParamType::Ns, "0", "time of the trace's first event, after the domain is ready", ""},
        {"queue_depth", ParamType::Int, "1024", "DMAs that may wait while the path cannot issue", "chosen", "", 1,
         1 << 24},
        {"reaches_outside_memory", ParamType::Bool, "false",
         "replayed addresses may lie past the end of guest memory", ""},
    }};

bool is_replay_workload(const nlohmann::json& path_obj) {
  const auto it = path_obj.find("workload");
  return it != path_obj.end() && it->is_object() && it->contains("replay");
}

WorkloadSpec read_replay_workload(const nlohmann::json& path_obj, const std::string& pp, const std::string& file,
                                  const DomainSpec& dom) {
  ObjReader w(path_obj["workload"], pp + "/workload", file, kReplayWorkloadTable);
  WorkloadSpec wl;
  const uint64_t acc = w.bytes("access_size");
  if (acc & (acc - 1)) w.fail("access_size", "expected a power of two, found " + std::to_string(acc));
  wl.access_bytes = static_cast<uint32_t>(acc);
  wl.write = w.choice("op", kDmaOpNames) == DmaOp::kWrite;
  wl.start_ns = w.ns("start");
  wl.queue_depth = static_cast<uint32_t>(w.integer("queue_depth"));
  wl.reaches_outside_memory = w.boolean("reaches_outside_memory");
  const std::filesystem::path trace = std::filesystem::path(file).parent_path() / w.str("replay");
  ReplayTrace t;
  try {
    t = read_replay(trace.string());
  } catch (const ReplayError& e) {
    w.fail("replay", e.what());
  }
  const uint64_t limit = workload_iova_limit(dom, wl.reaches_outside_memory);
  for (const ReplayDma& d : t.dmas)
    if (d.iova >= limit)
      w.fail("replay", trace.string() + ": a DMA at iova " + std::to_string(d.iova) + " lies outside domain \"" +
                           dom.name + "\" memory (" + std::to_string(dom.memory_bytes) + " bytes)");
  for (const ReplayUnmap& u : t.unmaps)
    if (u.iova + u.bytes > dom.memory_bytes || u.iova + u.bytes < u.iova)
      w.fail("replay", trace.string() + ": an unmap of [" + std::to_string(u.iova) + ", +" + std::to_string(u.bytes) +
                           ") lies outside domain \"" + dom.name + "\" memory");
  wl.region_bytes = acc;  // unused by a replay; keeps the spec's invariants (a non-empty region)
  wl.replay = std::move(t.dmas);
  wl.replay_unmaps = std::move(t.unmaps);
  return wl;
}

void add_replay_unmap_sources(Scenario* sc) {
  for (const DeviceSpec& dev : sc->devices)
    for (const PathSpec& p : dev.paths) {
      if (p.workload.replay_unmaps.empty()) continue;
      const DomainSpec& d = sc->domains[dev.domain_index];
      InvalidationSpec inv;
      inv.name = dev.name + "/" + p.name + "/replay";
      inv.domain_index = dev.domain_index;
      inv.kind = InvKind::kPage;
      inv.action = d.kind->pages_can_fault ? InvAction::kZap : InvAction::kFlush;
      inv.pasid = dev.pasid;
      inv.start_ns = p.workload.start_ns;
      inv.region_bytes = d.memory_bytes;
      inv.script = p.workload.replay_unmaps;
      sc->invalidations.push_back(inv);
    }
}

}  // namespace iopf
