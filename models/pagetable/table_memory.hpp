// Simulated physical memory that holds page tables.
//
// Models: the host-physical frames that IOMMU page tables live in. A table's physical
// address (PA) is kTableBasePa plus its offset in one reserved arena, so turning a PA read
// from an entry back into a pointer is one subtraction: the walk does the same dependent
// loads the hardware does. Freed tables go on a free list and are zeroed when reused.
// Does not model: the data pages themselves (leaf PAs are just numbers), NUMA placement.
#pragma once
#include <cstdint>
#include <vector>

namespace iopf {

class TableMemory {
 public:
  static constexpr uint64_t kTableBytes = 4096;
  // Tables sit above every domain's guest-memory window (domains use [0, 2^47)) and below
  // 2^48, the largest output address every format here can hold (Arm's is 48 bits).
  static constexpr uint64_t kTableBasePa = 1ULL << 47;

  static TableMemory& instance();

  uint64_t alloc();  // PA of a zeroed 4 KiB table
  void free(uint64_t pa);
  // Bytes of the arena ever handed out (touched, so resident), free-listed tables included.
  uint64_t used_bytes() const { return next_off_; }
  // Static so the walk needs no instance lookup: one subtraction and one load per level.
  static uint64_t* ptr(uint64_t pa) { return reinterpret_cast<uint64_t*>(arena_ + (pa - kTableBasePa)); }

  TableMemory(const TableMemory&) = delete;
  TableMemory& operator=(const TableMemory&) = delete;

 private:
  TableMemory();
  static inline char* arena_ = nullptr;
  uint64_t reserved_bytes_ = 0;
  uint64_t next_off_ = 0;
  std::vector<uint64_t> free_;
};

}  // namespace iopf
