// Progress on a terminal: see sim/progress.hpp.
#include "sim/progress.hpp"

#include <algorithm>

#include "models/common/units.hpp"
#include "sim/system.hpp"

namespace iopf {

void Progress::begin(RunView& view) {
  (void)view;
  start_ = std::chrono::steady_clock::now();
}

void Progress::sample(RunView& view, uint64_t now_ns) {
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (wall_s - last_print_s_ < print_every_s_) return;
  last_print_s_ = wall_s;
  print(view, now_ns, wall_s);
}

void Progress::print(RunView& view, uint64_t now_ns, double wall_s) {
  uint64_t ready_ns = 0, dmas = 0;
  for (const auto& d : view.sys.domains) ready_ns = std::max(ready_ns, d->setup_ns());
  for (const auto& dev : view.sys.devices)
    for (const Path& p : dev->paths()) dmas += p.dmas_simulated();
  const uint64_t end_ns = std::max(now_ns, ready_ns + view.sys.sc.warmup_ns + view.sys.sc.duration_ns);
  const double eta_s = now_ns ? wall_s * static_cast<double>(end_ns - now_ns) / static_cast<double>(now_ns) : 0;
  std::fprintf(out_, "\r\033[Ksimulated %s / %s  wall %.1f s  ETA %.1f s  %.3g DMA/wall-s", units::format_ns(now_ns).c_str(),
               units::format_ns(end_ns).c_str(), wall_s, eta_s, wall_s > 0 ? static_cast<double>(dmas) / wall_s : 0.0);
  std::fflush(out_);
  printed_ = true;
}

void Progress::end(RunView& view, uint64_t end_ns) {
  (void)view, (void)end_ns;
  if (printed_) {  // leave the terminal's line clean for the summary
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
  }
}

}  // namespace iopf
