// The page-table interface every format implements, and the format registry.
//
// Models: one I/O page table (a domain's, or one stage of a nested pair): map and unmap of
// ranges with the largest page size alignment and length allow, splitting of large leaves on
// partial unmap, tables allocated on demand and freed when a whole span is unmapped, and the
// walk a hardware walker does (one memory read per level).
// Does not model: concurrent updates (the simulator is single-threaded), A/D bit updates.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/pagetable/table_memory.hpp"

namespace iopf {

constexpr int kMaxLevels = 5;

// What a walk found, and what the walk caches need (the table visited at each level).
struct WalkOut {
  bool present = false;
  bool writable = false;
  uint8_t page_lg2 = 12;  // leaf size when present; size of the hole's level span otherwise
  uint8_t reads = 0;      // memory reads (page-table entries) this walk did
  uint64_t pa = 0;        // translated address of the va walked (leaf base + offset)
  uint64_t table_pa[kMaxLevels] = {};  // table_pa[L] = table read at level L
};

// One entry decoded, for walkers that interleave stages (nested walks).
struct StepOut {
  enum Kind : uint8_t { kAbsent, kTable, kLeaf } kind = kAbsent;
  bool writable = false;
  uint64_t addr = 0;  // kTable: next table's address as written in the entry; kLeaf: leaf base
};

struct FormatInfo {
  std::string name;   // registry name, e.g. "x86_64_4level"
  std::string family; // "x86_64", "vtd_ss", "arm64_s1", "arm64_s2", "amd_v1"
  int levels;
  int va_bits;
};

class PageTable {
 public:
  // Address hook for tables whose entries hold addresses of another space (a nested stage 1
  // holds guest-physical table pointers): entry address = host PA + entry_addr_offset, and
  // on_table_alloc/free tell the owner, who maps that guest-physical page in stage 2.
  struct AddrHook {
    int64_t entry_addr_offset = 0;
    std::function<void(uint64_t hpa, bool alloc)> on_table;
  };

  virtual ~PageTable() = default;
  const FormatInfo& info() const { return info_; }
  int levels() const { return info_.levels; }
  uint64_t root_pa() const { return root_pa_; }
  uint64_t pt_bytes() const { return tables_ * TableMemory::kTableBytes; }
  int64_t entry_addr_offset() const { return hook_.entry_addr_offset; }

  // Maps [va, va+len) to [pa, pa+len), replacing what was there; all 4 KiB aligned.
  // Uses leaves up to 2^max_page_lg2 bytes where alignment and length allow.
  virtual void map(uint64_t va, uint64_t pa, uint64_t len, unsigned max_page_lg2, bool writable) = 0;
  // Unmaps [va, va+len), splitting large leaves that straddle an edge. Returns bytes unmapped.
  virtual uint64_t unmap(uint64_t va, uint64_t len) = 0;
  // Clears the write permission of every present leaf in [va, va+len) (dirty logging).
  // Large leaves that straddle an edge are split first. Returns bytes write-protected.
  virtual uint64_t write_protect(uint64_t va, uint64_t len) = 0;
  // Walks from `level`, reading table `table_pa` (host PA). The full walk starts at the root.
  virtual void walk_from(int level, uint64_t table_pa, uint64_t va, WalkOut* out) const = 0;
  void walk(uint64_t va, WalkOut* out) const { walk_from(levels() - 1, root_pa_, va, out); }
  // Decodes the entry for va at `level` of table `table_hpa`: one memory read.
  virtual StepOut step(int level, uint64_t table_hpa, uint64_t va) const = 0;

 protected:
  PageTable(FormatInfo info, AddrHook hook) : info_(std::move(info)), hook_(std::move(hook)) {}
  uint64_t alloc_table();
  void free_table(uint64_t pa);
  FormatInfo info_;
  AddrHook hook_;
  uint64_t root_pa_ = 0;
  uint64_t tables_ = 0;
};

// Registry. Names: x86_64_4level, x86_64_5level, vtd_ss_3level/4level/5level (alias
// ept_4level), arm64_s1_3level/4level, arm64_s2_3level/4level, amd_v1_3level/4level/5level.
std::unique_ptr<PageTable> make_page_table(const std::string& name, PageTable::AddrHook hook = {});
// What make_page_table(name) would build (its info()), without building it: no table is allocated.
FormatInfo page_table_format_info(const std::string& name);
std::vector<std::string> page_table_format_names();
bool is_page_table_format(const std::string& name);

}  // namespace iopf
