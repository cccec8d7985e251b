#include "models/pagetable/table_memory.hpp"

#include <sys/mman.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace iopf {

TableMemory& TableMemory::instance() {
  static TableMemory m;
  return m;
}

TableMemory::TableMemory() {
  // Reserve address space only (MAP_NORESERVE): pages are committed, zero-filled, when first
  // touched, so the arena never moves and costs nothing until used. 256 GiB of tables covers
  // 4 KiB mappings of ~128 TiB, far beyond any scenario here (a figure we chose).
  reserved_bytes_ = 256ULL << 30;
  void* p = mmap(nullptr, reserved_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    reserved_bytes_ = 16ULL << 30;
    p = mmap(nullptr, reserved_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
  }
  arena_ = static_cast<char*>(p);
}

uint64_t TableMemory::alloc() {
  if (!free_.empty()) {
    uint64_t pa = free_.back();
    free_.pop_back();
    std::memset(ptr(pa), 0, kTableBytes);
    return pa;
  }
  if (next_off_ + kTableBytes > reserved_bytes_) throw std::runtime_error("page-table arena exhausted");
  uint64_t pa = kTableBasePa + next_off_;
  next_off_ += kTableBytes;
  return pa;
}

void TableMemory::free(uint64_t pa) {
  free_.push_back(pa);
}

}  // namespace iopf
