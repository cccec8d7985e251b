// Rounding a non-negative double to whole units (ns, ps) as std::llround does, without its
// libm call on the engine's hot paths (the clock is read several times per fault).
#pragma once
#include <cmath>
#include <cstdint>

namespace iopf {

// Same result as static_cast<uint64_t>(std::llround(x)) for every x. From 0.5 up to 2^51,
// x + 0.5 truncated is exact: the sum rounds at most within the integer below it (x's ulp
// divides 0.5 and 1 there). Below 0.5 the sum can round up to 1.0 (0.49999999999999994),
// so that range, like any other, goes to llround.
inline uint64_t round_half_away(double x) {
  if (x >= 0.5 && x < 0x1p51) return static_cast<uint64_t>(x + 0.5);
  return static_cast<uint64_t>(std::llround(x));
}

}  // namespace iopf
