// Nested (two-stage) tables as the IOMMU sees them: a guest's stage-1 table (gIOVA -> GPA)
// whose table pages live at guest-physical addresses, over the host's stage-2 table
// (GPA -> HPA). Every stage-1 table page is mapped in stage 2 when it is allocated (and
// unmapped when freed), in a GPA window at table_gpa: what a guest's page-table pages look
// like to the host. The IOMMU's nested walk (models/iommu/iommu.hpp) then translates every
// stage-1 table pointer through stage 2.
// Does not model: guest table pages scattered over guest memory (they sit in one window).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "models/iommu/iommu.hpp"
#include "models/pagetable/page_table.hpp"

namespace iopf {

struct NestedTables {
  std::unique_ptr<PageTable> s2;
  std::unique_ptr<PageTable> s1;
  IommuDomain view(uint32_t id) const { return IommuDomain{id, s2.get(), s1.get()}; }
};

// Guest memory mappings are the caller's to add (to s2, and to s1 for the guest's IOVAs);
// keep the window at table_gpa free of them.
NestedTables make_nested_tables(const std::string& s1_format, const std::string& s2_format, uint64_t table_gpa);
// A stage-1 table over an existing stage 2 (a domain's guest memory), its table pages mapped
// in s2 at table_gpa as above.
std::unique_ptr<PageTable> make_stage1_over(const std::string& s1_format, PageTable* s2, uint64_t table_gpa);

}  // namespace iopf
