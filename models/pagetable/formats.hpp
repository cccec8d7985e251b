// Page-table entry formats, with their real 64-bit layouts.
//
// Models: the bits a walker reads and a mapper writes for
//   - x86-64 paging (also the VT-d first-stage format): P(0) R/W(1) U/S(2) A(5) D(6) PS(7),
//     address bits 51:12, XD(63). Intel SDM vol. 3A, 4.5; VT-d spec 3.4, 9.7.
//   - VT-d second stage / EPT: R(0) W(1) X(2), memory type 5:3 on leaves, page size (7),
//     address bits 51:12. Intel SDM vol. 3C, 29.3.2; VT-d spec 9.8.
//   - Arm VMSAv8-64 long descriptors, 4 KiB granule: bits 1:0 = 0b11 table/page, 0b01 block;
//     AttrIndx 4:2, AP 7:6 (stage 1) or MemAttr 5:2 and S2AP 7:6 (stage 2), SH 9:8, AF(10),
//     output address 47:12. Arm ARM D8.3.
//   - AMD IOMMU v1 (host) page table: PR(0), Next Level 11:9 (0 = this entry is a leaf),
//     address 51:12, IR(61), IW(62). AMD IOMMU spec 48882, 2.2.3.
// Levels are numbered from the leaf: level 0 maps 4 KiB, level 1 2 MiB, level 2 1 GiB.
// Does not model: access/dirty-bit updates by hardware, memory types beyond write-back,
// execute and user/privileged permissions (all set permissive), AMD's Next-Level-7
// non-power-of-512 page sizes, Arm contiguous hints and 16/64 KiB granules.
#pragma once
#include <cstdint>

namespace iopf::fmt {

constexpr uint64_t kAddr51_12 = 0x000F'FFFF'FFFF'F000ULL;
constexpr uint64_t kAddr47_12 = 0x0000'FFFF'FFFF'F000ULL;
constexpr uint64_t level_bytes(int level) { return 1ULL << (12 + 9 * level); }

struct X86FirstLevel {
  static constexpr const char* kFamily = "x86_64";
  static constexpr uint64_t P = 1, RW = 1 << 1, US = 1 << 2, A = 1 << 5, D = 1 << 6, PS = 1 << 7;
  static constexpr bool leaf_allowed(int level) { return level <= 2; }
  static bool present(uint64_t e) { return e & P; }
  template <int L> static bool is_leaf(uint64_t e) { return L == 0 || (e & PS); }
  static uint64_t table_addr(uint64_t e) { return e & kAddr51_12; }
  // Bit 12 of a large leaf is PAT, so the address is masked to the page size.
  static uint64_t leaf_addr(uint64_t e, int level) { return e & kAddr51_12 & ~(level_bytes(level) - 1); }
  static bool writable(uint64_t e) { return e & RW; }
  static uint64_t make_table(uint64_t addr, int /*level*/) { return addr | P | RW | US | A; }
  static uint64_t make_leaf(uint64_t pa, int level, bool w) {
    return pa | P | US | A | (w ? (RW | D) : 0) | (level > 0 ? PS : 0);
  }
};

struct VtdSecondStage {
  static constexpr const char* kFamily = "vtd_ss";
  static constexpr uint64_t R = 1, W = 1 << 1, X = 1 << 2, kMemTypeWB = 6ULL << 3, PS = 1 << 7;
  static constexpr bool leaf_allowed(int level) { return level <= 2; }
  static bool present(uint64_t e) { return e & (R | W | X); }
  template <int L> static bool is_leaf(uint64_t e) { return L == 0 || (e & PS); }
  static uint64_t table_addr(uint64_t e) { return e & kAddr51_12; }
  static uint64_t leaf_addr(uint64_t e, int level) { return e & kAddr51_12 & ~(level_bytes(level) - 1); }
  static bool writable(uint64_t e) { return e & W; }
  static uint64_t make_table(uint64_t addr, int /*level*/) { return addr | R | W | X; }
  static uint64_t make_leaf(uint64_t pa, int level, bool w) {
    return pa | R | (w ? W : 0) | X | kMemTypeWB | (level > 0 ? PS : 0);
  }
};

// Arm stage 1 and stage 2 share the descriptor shape and differ in the attribute fields.
template <bool kStage2>
struct ArmVmsa {
  static constexpr const char* kFamily = kStage2 ? "arm64_s2" : "arm64_s1";
  static constexpr uint64_t kValid = 1, kTableOrPage = 1 << 1, AF = 1 << 10, kShInner = 3ULL << 8;
  static constexpr uint64_t kS1AttrIdx0 = 0, kS1ApRO = 1ULL << 7;         // AP[2]: read-only
  static constexpr uint64_t kS2MemAttrWB = 0xFULL << 2, kS2ApR = 1ULL << 6, kS2ApW = 1ULL << 7;
  static constexpr bool leaf_allowed(int level) { return level <= 2; }  // 4K granule: no level-0 blocks
  static bool present(uint64_t e) { return e & kValid; }
  // At level 0 (Arm "level 3") 0b11 is a page; above it 0b01 is a block.
  template <int L> static bool is_leaf(uint64_t e) { return L == 0 || !(e & kTableOrPage); }
  static uint64_t table_addr(uint64_t e) { return e & kAddr47_12; }
  static uint64_t leaf_addr(uint64_t e, int level) { return e & kAddr47_12 & ~(level_bytes(level) - 1); }
  static bool writable(uint64_t e) {
    if constexpr (kStage2) return e & kS2ApW;
    else return !(e & kS1ApRO);
  }
  static uint64_t make_table(uint64_t addr, int /*level*/) { return addr | kValid | kTableOrPage; }
  static uint64_t make_leaf(uint64_t pa, int level, bool w) {
    uint64_t e = pa | kValid | AF | kShInner | (level == 0 ? kTableOrPage : 0);
    if constexpr (kStage2) e |= kS2MemAttrWB | kS2ApR | (w ? kS2ApW : 0);
    else e |= kS1AttrIdx0 | (w ? 0 : kS1ApRO);
    return e;
  }
};

struct AmdV1 {
  static constexpr const char* kFamily = "amd_v1";
  static constexpr uint64_t PR = 1, IR = 1ULL << 61, IW = 1ULL << 62;
  static constexpr int kNextLevelShift = 9;
  static constexpr bool leaf_allowed(int level) { return level <= 2; }
  static bool present(uint64_t e) { return e & PR; }
  static int next_level(uint64_t e) { return static_cast<int>((e >> kNextLevelShift) & 7); }
  template <int L> static bool is_leaf(uint64_t e) { return L == 0 || next_level(e) == 0; }
  static uint64_t table_addr(uint64_t e) { return e & kAddr51_12; }
  static uint64_t leaf_addr(uint64_t e, int level) { return e & kAddr51_12 & ~(level_bytes(level) - 1); }
  static bool writable(uint64_t e) { return e & IW; }
  // A table entry at (0-based) level L points to a table of 1-based level L, which is what
  // the Next Level field holds.
  static uint64_t make_table(uint64_t addr, int level) {
    return addr | PR | IR | IW | (static_cast<uint64_t>(level) << kNextLevelShift);
  }
  static uint64_t make_leaf(uint64_t pa, int /*level*/, bool w) { return pa | PR | IR | (w ? IW : 0); }
};

}  // namespace iopf::fmt
