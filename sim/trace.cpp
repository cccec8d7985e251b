// Chrome trace-event JSON of a run: see sim/trace.hpp.
#include "sim/trace.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "sim/system.hpp"

namespace iopf {

namespace {

const char* cat_name(TraceCat c) {
  switch (c) {
    case TraceCat::kPageRequest: return "page_request";
    case TraceCat::kFault: return "fault";
    case TraceCat::kInvalidation: return "invalidation";
    case TraceCat::kReset: return "reset";
    case TraceCat::kReclaim: return "reclaim";
  }
  return "other";
}

std::string us(uint64_t ns) {  // microseconds with ns precision, as the format wants
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(ns / 1000),
                static_cast<unsigned long long>(ns % 1000));
  return buf;
}

std::string head(const char* ph, TraceCat cat, const std::string& name, TraceTrack track, uint64_t t_ns) {
  return std::string("{\"ph\":\"") + ph + "\",\"cat\":\"" + cat_name(cat) + "\",\"name\":" + nlohmann::json(name).dump() +
         ",\"pid\":" + std::to_string(track.pid) + ",\"tid\":" + std::to_string(track.tid) + ",\"ts\":" + us(t_ns);
}

std::string args(const char* arg_name, uint64_t arg) {
  if (!arg_name) return "";
  return std::string(",\"args\":{\"") + arg_name + "\":" + std::to_string(arg) + "}";
}

std::string meta(const char* what, uint32_t pid, uint32_t tid, const std::string& name) {
  return std::string("{\"ph\":\"M\",\"name\":\"") + what + "\",\"pid\":" + std::to_string(pid) +
         ",\"tid\":" + std::to_string(tid) + ",\"args\":{\"name\":" + nlohmann::json(name).dump() + "}}";
}

}  // namespace

ChromeTrace::ChromeTrace(const System& sys, uint64_t window_start_ns, uint64_t window_end_ns, uint64_t max_events)
    : lo_ns_(window_start_ns), hi_ns_(window_end_ns), max_events_(max_events) {
  // Track names: metadata, not counted against the cap.
  body_ = meta("process_name", TraceTrack::kHostPid, 0, "host");
  for (uint32_t c = 0; c < sys.sc.host.cores; ++c)
    body_ += ",\n" + meta("thread_name", TraceTrack::kHostPid, c, "core " + std::to_string(c));
  body_ += ",\n" + meta("thread_name", TraceTrack::kHostPid, TraceTrack::kKswapdTid, "kswapd");
  body_ += ",\n" + meta("process_name", TraceTrack::kIommuPid, 0, "iommu");
  body_ += ",\n" + meta("thread_name", TraceTrack::kIommuPid, TraceTrack::kInvQueueTid, "invalidation queue");
  for (size_t i = 0; i < sys.devices.size(); ++i) {
    const uint32_t pid = TraceTrack::kDevicePid0 + static_cast<uint32_t>(i);
    body_ += ",\n" + meta("process_name", pid, 0, "device " + sys.devices[i]->spec().name);
  }
}

bool ChromeTrace::room(uint64_t t_ns) {
  if (truncated_) return false;
  if (events_ < max_events_) return true;
  truncated_ = true;
  truncated_at_ns_ = t_ns;
  return false;
}

void ChromeTrace::add(const std::string& event) {
  body_ += ",\n" + event;
  ++events_;
}

void ChromeTrace::span(TraceCat cat, const char* name, TraceTrack track, uint64_t start_ns, uint64_t end_ns,
                       const char* arg_name, uint64_t arg) {
  if (start_ns < lo_ns_ || start_ns >= hi_ns_ || !room(start_ns)) return;
  add(head("X", cat, name, track, start_ns) + ",\"dur\":" + us(end_ns > start_ns ? end_ns - start_ns : 0) +
      args(arg_name, arg) + "}");
}

void ChromeTrace::async(TraceCat cat, const char* name, bool begin, TraceTrack track, uint64_t id, uint64_t t_ns,
                        const char* arg_name, uint64_t arg) {
  const std::string idtext = ",\"id\":\"0x" + [id] {
    char b[24];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(id));
    return std::string(b);
  }() + "\"";
  if (begin) {
    if (t_ns < lo_ns_ || t_ns >= hi_ns_ || !room(t_ns)) return;
    open_[id] = Open{cat, name, track};
    add(head("b", cat, name, track, t_ns) + idtext + args(arg_name, arg) + "}");
    return;
  }
  const auto it = open_.find(id);
  if (it == open_.end()) return;  // its begin was not kept
  const Open o = it->second;
  open_.erase(it);
  if (t_ns >= hi_ns_) {  // closed at the window's end
    add(head("e", o.cat, o.name, o.track, hi_ns_) + idtext + args("cut", 1) + "}");
    return;
  }
  add(head("e", o.cat, o.name, o.track, t_ns) + idtext + args(arg_name, arg) + "}");  // ends always fit: one per begin
}

std::string ChromeTrace::finish(uint64_t simulated_ns) {
  const uint64_t close_ns = std::min(hi_ns_, simulated_ns);
  for (const auto& [id, o] : open_) {
    char b[24];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(id));
    add(head("e", o.cat, o.name, o.track, close_ns) + ",\"id\":\"0x" + b + "\"" + args("cut", 1) + "}");
  }
  open_.clear();
  nlohmann::json other = {{"generator", "iopfsim"},
                          {"window_start_ns", lo_ns_},
                          {"window_end_ns", hi_ns_ == ~0ULL ? simulated_ns : hi_ns_},
                          {"events", events_},
                          {"max_events", max_events_},
                          {"truncated", truncated_}};
  if (truncated_) other["truncated_at_ns"] = truncated_at_ns_;
  return "{\"displayTimeUnit\":\"ns\",\"otherData\":" + other.dump() + ",\n\"traceEvents\":[\n" + body_ + "\n]}\n";
}

}  // namespace iopf
