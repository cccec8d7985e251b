// The trace-cmd report reader: see replay.hpp for the format and what each event becomes.
#include "models/device/replay.hpp"

#include <fstream>
#include <regex>
#include <sstream>

namespace iopf {

namespace {

// Compiled on first use, not at start-up: every run would pay for them (about 8 M
// instructions of regex compilation) while only a replayed workload reads a trace.
struct Patterns {
  // comm-pid [cpu] optional-flags seconds.fraction: event: fields
  const std::regex line{R"(^\s*(.+)-(\d+)\s+\[(\d+)\]\s+(?:[^\s:]+\s+)?(\d+)\.(\d{1,9}):\s+([\w:]+):\s*(.*)$)"};
  const std::regex map{R"(^IOMMU: iova=0x([0-9a-fA-F]+) - 0x([0-9a-fA-F]+) paddr=0x([0-9a-fA-F]+) size=(\d+)\s*$)"};
  const std::regex unmap{R"(^IOMMU: iova=0x([0-9a-fA-F]+) - 0x([0-9a-fA-F]+) size=(\d+) unmapped_size=(\d+)\s*$)"};
  const std::regex fault{R"(^IOMMU:\S+(?: \S+)? iova=0x([0-9a-fA-F]+) flags=0x([0-9a-fA-F]+)\s*$)"};
};
const Patterns& patterns() {
  static const Patterns p;
  return p;
}
constexpr uint64_t kFaultWrite = 0x1;  // IOMMU_FAULT_WRITE, include/linux/iommu.h

uint64_t number(const std::string& s, int base, const std::string& where, const char* what) {
  if (s.empty() || s.size() > (base == 16 ? 16u : 19u)) throw ReplayError(where + ": " + what + " out of range: " + s);
  return std::stoull(s, nullptr, base);
}

bool skipped(const std::string& line) {
  static const std::regex header(R"(^\s*(#.*|cpus=\d+|version = \d+|CPU \d+ is empty)?\s*$)");
  return std::regex_match(line, header);
}

std::string event_name(const std::string& e) {  // "iommu:map" -> "map"; other systems kept
  return e.rfind("iommu:", 0) == 0 ? e.substr(6) : e;
}

struct Reader {
  const std::string& file;
  ReplayTrace out;
  bool started = false;
  uint64_t first_ns = 0, last_ns = 0;

  void event(const std::string& where, uint64_t t, const std::string& name, const std::string& fields) {
    std::smatch m;
    if (name == "map") {
      if (!std::regex_match(fields, m, patterns().map)) throw ReplayError(where + ": map: expected \"IOMMU: iova=0x... - 0x... paddr=0x... size=N\", found \"" + fields + "\"");
      check_range(where, m[1], m[2], m[4]);
      out.dmas.push_back({at(where, t), number(m[1], 16, where, "iova"), false});
    } else if (name == "unmap") {
      if (!std::regex_match(fields, m, patterns().unmap)) throw ReplayError(where + ": unmap: expected \"IOMMU: iova=0x... - 0x... size=N unmapped_size=N\", found \"" + fields + "\"");
      check_range(where, m[1], m[2], m[3]);
      out.unmaps.push_back({at(where, t), number(m[1], 16, where, "iova"), number(m[3], 10, where, "size")});
    } else if (name == "io_page_fault") {
      if (!std::regex_match(fields, m, patterns().fault)) throw ReplayError(where + ": io_page_fault: expected \"IOMMU:<driver> <device> iova=0x... flags=0x...\", found \"" + fields + "\"");
      const bool write = number(m[2], 16, where, "flags") & kFaultWrite;
      out.dmas.push_back({at(where, t), number(m[1], 16, where, "iova"), write});
    } else {
      ++out.other_events;
    }
  }
  void check_range(const std::string& where, const std::string& lo, const std::string& hi, const std::string& size) {
    const uint64_t a = number(lo, 16, where, "iova"), b = number(hi, 16, where, "iova end"), n = number(size, 10, where, "size");
    if (n == 0) throw ReplayError(where + ": size=0: expected a positive size");
    if (b <= a || b - a != n) throw ReplayError(where + ": iova range " + lo + " - " + hi + " does not span size=" + size);
  }
  uint64_t at(const std::string& where, uint64_t t) {
    if (!started) started = true, first_ns = last_ns = t;
    if (t < last_ns) throw ReplayError(where + ": time goes backwards (events must be in time order)");
    last_ns = t;
    return t - first_ns;
  }
};

}  // namespace

ReplayTrace parse_replay(const std::string& text, const std::string& file) {
  Reader r{file, {}};
  std::istringstream in(text);
  std::string line;
  for (uint64_t no = 1; std::getline(in, line); ++no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (skipped(line)) continue;
    const std::string where = file + ":" + std::to_string(no);
    std::smatch m;
    if (!std::regex_match(line, m, patterns().line))
      throw ReplayError(where + ": expected a trace-cmd report line \"comm-pid [cpu] seconds.fraction: event: fields\", found \"" +
                        line.substr(0, 120) + "\"");
    std::string frac = m[5];
    frac.resize(9, '0');
    const uint64_t t = number(m[4], 10, where, "seconds") * 1'000'000'000ULL + std::stoull(frac);
    r.event(where, t, event_name(m[6]), m[7]);
  }
  if (r.out.dmas.empty() && r.out.unmaps.empty())
    throw ReplayError(file + ": no iommu:map, iommu:unmap or iommu:io_page_fault event");
  return r.out;
}

ReplayTrace read_replay(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ReplayError(file + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_replay(ss.str(), file);
}

}  // namespace iopf
