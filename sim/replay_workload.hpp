// A path workload replayed from a Linux trace, `"workload": {"replay": "FILE"}` (FILE
// relative to the scenario): the scenario side of models/device/replay.hpp.
//
// Does: reads the trace (errors name the scenario's JSON pointer and the trace's file and
// line), checks every replayed address lies in the domain's memory (unless
// reaches_outside_memory), and turns the trace's unmaps into a scripted invalidation source
// on the device's domain, named "<device>/<path>/replay": zap on a domain whose pages can
// fault, flush on others (their pages are never taken away), one 4 KiB page at a time.
// Does not: replay a DMA's direction per event (the workload's `op` applies to all of them),
// nor the trace's maps as mappings (the domain's kind decides what is mapped).
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <string>

#include "models/common/params.hpp"
#include "models/device/params.hpp"
#include "models/domain/params.hpp"

namespace iopf {

struct Scenario;

extern const ParamTable kReplayWorkloadTable;

// The path object's workload names a replay.
bool is_replay_workload(const nlohmann::json& path_obj);
WorkloadSpec read_replay_workload(const nlohmann::json& path_obj, const std::string& path_pointer,
                                  const std::string& file, const DomainSpec& dom);
// Appends one scripted source per replayed path that has unmaps.
void add_replay_unmap_sources(Scenario* sc);

}  // namespace iopf
