#include "models/iommu/nested.hpp"

#include "models/common/sizes.hpp"
#include "models/pagetable/table_memory.hpp"

namespace iopf {

std::unique_ptr<PageTable> make_stage1_over(const std::string& s1_format, PageTable* s2, uint64_t table_gpa) {
  PageTable::AddrHook hook;
  hook.entry_addr_offset = static_cast<int64_t>(table_gpa) - static_cast<int64_t>(TableMemory::kTableBasePa);
  hook.on_table = [s2, table_gpa](uint64_t hpa, bool alloc) {
    const uint64_t gpa = hpa - TableMemory::kTableBasePa + table_gpa;
    if (alloc) s2->map(gpa, hpa, kBasePageBytes, kBasePageLg2, true);
    else s2->unmap(gpa, kBasePageBytes);
  };
  return make_page_table(s1_format, hook);
}

NestedTables make_nested_tables(const std::string& s1_format, const std::string& s2_format, uint64_t table_gpa) {
  NestedTables t;
  t.s2 = make_page_table(s2_format);
  t.s1 = make_stage1_over(s1_format, t.s2.get(), table_gpa);
  return t;
}

}  // namespace iopf
