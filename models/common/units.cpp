#include "models/common/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace iopf::units {
namespace {

// Splits "12.5MiB" into 12.5 and "MiB". Rejects empty numbers, signs and trailing junk in the number.
bool split_number(const std::string& s, double* value, std::string* suffix) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' ||
                          ((s[i] == '+' || s[i] == '-') && i > 0 && s[i - 1] == 'e')))
    ++i;
  // A trailing 'e' that is not followed by digits belongs to the suffix (none of ours start with e).
  if (i == 0) return false;
  std::string num = s.substr(0, i);
  char* end = nullptr;
  *value = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(*value) || *value < 0) return false;
  size_t j = i;
  while (j < s.size() && s[j] == ' ') ++j;
  *suffix = s.substr(j);
  return true;
}

std::optional<uint64_t> to_whole(double v) {
  if (v < 0 || v > 1.8e19) return std::nullopt;
  double r = std::nearbyint(v);
  if (std::fabs(r - v) > 1e-6 * std::max(1.0, std::fabs(v))) return std::nullopt;
  return static_cast<uint64_t>(r);
}

}  // namespace

std::optional<uint64_t> parse_bytes(const std::string& s) {
  double v;
  std::string u;
  if (!split_number(s, &v, &u)) return std::nullopt;
  double mult;
  if (u.empty() || u == "B") mult = 1;
  else if (u == "KiB") mult = 1024.0;
  else if (u == "MiB") mult = 1024.0 * 1024;
  else if (u == "GiB") mult = 1024.0 * 1024 * 1024;
  else if (u == "TiB") mult = 1024.0 * 1024 * 1024 * 1024;
  else if (u == "KB" || u == "kB") mult = 1e3;
  else if (u == "MB") mult = 1e6;
  else if (u == "GB") mult = 1e9;
  else if (u == "TB") mult = 1e12;
  else return std::nullopt;
  return to_whole(v * mult);
}

std::optional<uint64_t> parse_ns(const std::string& s) {
  double v;
  std::string u;
  if (!split_number(s, &v, &u)) return std::nullopt;
  double mult;
  if (u.empty() || u == "ns") mult = 1;
  else if (u == "us") mult = 1e3;
  else if (u == "ms") mult = 1e6;
  else if (u == "s") mult = 1e9;
  else return std::nullopt;
  return to_whole(v * mult);
}

std::optional<double> parse_rate_per_s(const std::string& s) {
  double v;
  std::string u;
  if (!split_number(s, &v, &u)) return std::nullopt;
  double mult = 1;
  if (!u.empty() && (u[0] == 'k' || u[0] == 'K')) { mult = 1e3; u.erase(0, 1); }
  else if (!u.empty() && u[0] == 'M') { mult = 1e6; u.erase(0, 1); }
  else if (!u.empty() && u[0] == 'G') { mult = 1e9; u.erase(0, 1); }
  if (!(u.empty() || u == "pps" || u == "ops" || u == "/s")) return std::nullopt;
  double r = v * mult;
  if (!(r > 0) || !std::isfinite(r)) return std::nullopt;
  return r;
}

std::optional<double> parse_bandwidth_bytes_per_s(const std::string& s) {
  double v;
  std::string u;
  if (!split_number(s, &v, &u)) return std::nullopt;
  double mult;
  if (u.empty() || u == "B/s") mult = 1;
  else if (u == "KB/s" || u == "kB/s") mult = 1e3;
  else if (u == "MB/s") mult = 1e6;
  else if (u == "GB/s") mult = 1e9;
  else if (u == "KiB/s") mult = 1024.0;
  else if (u == "MiB/s") mult = 1024.0 * 1024;
  else if (u == "GiB/s") mult = 1024.0 * 1024 * 1024;
  else if (u == "Mbps") mult = 1e6 / 8;
  else if (u == "Gbps") mult = 1e9 / 8;
  else return std::nullopt;
  double r = v * mult;
  if (!(r > 0) || !std::isfinite(r)) return std::nullopt;
  return r;
}

namespace {
// v in the largest unit it reaches (step apart), exact when whole, else to 4 significant digits.
std::string scaled(double v, double step, const char* const* names, int n) {
  int k = 0;
  while (k + 1 < n && v >= step) v /= step, ++k;
  char buf[64];
  if (v == static_cast<double>(static_cast<uint64_t>(v))) std::snprintf(buf, sizeof buf, "%llu%s", static_cast<unsigned long long>(v), names[k]);
  else std::snprintf(buf, sizeof buf, "%.4g%s", v, names[k]);
  return buf;
}
}  // namespace

std::string format_bytes(uint64_t b) {
  static const char* const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  return scaled(static_cast<double>(b), 1024, names, 6);
}

std::string format_ns(uint64_t ns) {
  static const char* const names[] = {"ns", "us", "ms", "s"};
  return scaled(static_cast<double>(ns), 1000, names, 4);
}

std::string format_exact(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (v == std::trunc(v) && std::fabs(v) < 18446744073709551616.0) {
    if (v >= 0) return std::to_string(static_cast<unsigned long long>(v));
    if (v >= -9223372036854775808.0) return std::to_string(static_cast<long long>(v));
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  std::string s(buf, res.ptr);
  // to_chars picks scientific form for very large or small values; spell out small ones too.
  if (s.find('e') != std::string::npos && std::fabs(v) >= 1e-9) {
    const auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    if (fixed.ec == std::errc()) s.assign(buf, fixed.ptr);
  }
  return s;
}

}  // namespace iopf::units
