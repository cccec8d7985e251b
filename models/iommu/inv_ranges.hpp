// Page invalidations gathered into ranges as the hardware takes them: VT-d's page-selective
// IOTLB invalidation and PCIe's ATS Invalidate Request both name a naturally aligned
// power-of-two range (an address mask: VT-d's AM field, ATS's S bit with the size encoded in
// the address). Pages that touch are merged into runs, and each run is cut into the fewest
// aligned power-of-two blocks that cover it exactly (no page outside the run is invalidated).
// A block is at most 2^kMaxInvMaskLg2 pages: chosen, 512 pages = 2 MiB; VT-d caps the mask
// at the unit's MAMV (capability register), which varies by part.
#pragma once
#include <cstdint>
#include <vector>

#include "models/cache/set_assoc.hpp"

namespace iopf {

inline constexpr unsigned kMaxInvMaskLg2 = 9;

// Filters of one tag (asid, asid_mask), page-aligned: the ranges, one descriptor each.
// Filters of other tags, or not page-aligned, pass through unchanged.
std::vector<InvFilter> merge_inv_ranges(std::vector<InvFilter> filters);

}  // namespace iopf
