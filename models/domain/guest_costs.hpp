// Parameters that the guest-driver kinds with a vIOMMU (nested, shadow) share, declared and
// read once: the guest's table format, what a guest's DMA-API map and unmap cost on its vCPU,
// and a VM exit.
#pragma once
#include <cstdint>
#include <string>

#include "models/common/params.hpp"
#include "models/pagetable/page_table.hpp"

namespace iopf::guest_costs {

inline const ParamSpec kMapCost{
    "guest_map_cost", ParamType::Ns, "\"200ns\"", "guest vCPU time of one DMA-API map of a 4 KiB page",
    "chosen: a 4 KiB map is 50-60 ns in the page-table code alone (Linux generic_pt v7 cover letter), plus "
    "IOVA allocation and dma-iommu",
    "", 0, 1e9};
inline const ParamSpec kUnmapCost{"guest_unmap_cost", ParamType::Ns, "\"200ns\"",
                                  "guest vCPU time of one DMA-API unmap of a 4 KiB page", "chosen, as guest_map_cost",
                                  "", 0, 1e9};
inline const ParamSpec kVmExit{
    "vm_exit", ParamType::Ns, "\"1us\"", "a VM exit and re-entry, round trip, on the vCPU",
    "KVM_RUN through a VM exit and back about 2,500 cycles, about 1 us at 2.5 GHz (LKML 2020-12, KVM SVM "
    "vmload measurements, lkml.iu.edu/hypermail/linux/kernel/2012.2/00527.html)",
    "", 0, 1e9};

struct Costs {
  std::string format;  // guest_format
  uint64_t map_ns = 0;
  uint64_t unmap_ns = 0;
  uint64_t vm_exit_ns = 0;
};

// Reads guest_format (the kind declares it: its description differs) and the three costs.
inline Costs read(const ObjReader& r) {
  Costs c;
  c.format = r.str("guest_format");
  if (!is_page_table_format(c.format))
    r.fail("guest_format", "expected a page-table format (iopfsim list-formats), found \"" + c.format + "\"");
  c.map_ns = r.ns("guest_map_cost");
  c.unmap_ns = r.ns("guest_unmap_cost");
  c.vm_exit_ns = r.ns("vm_exit");
  return c;
}

}  // namespace iopf::guest_costs
