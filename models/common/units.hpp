// Unit strings at the scenario boundary. Inside the engine everything is integer
// nanoseconds and bytes; rates are DMAs (or packets) per second as doubles only where
// they are turned into integer inter-arrival times.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace iopf::units {

// "4KiB", "2MiB", "1GiB", "64B", "1.5GiB", "4096" -> bytes. Binary (KiB) and decimal (KB) prefixes.
std::optional<uint64_t> parse_bytes(const std::string& s);
// "500ns", "10us", "5ms", "1s", "2.5us" -> nanoseconds (must be a whole number of ns).
std::optional<uint64_t> parse_ns(const std::string& s);
// "2Mpps", "10Mops", "500k/s", "1e6" -> events per second.
std::optional<double> parse_rate_per_s(const std::string& s);
// "16GB/s", "128Gbps", "8GiB/s" -> bytes per second.
std::optional<double> parse_bandwidth_bytes_per_s(const std::string& s);

std::string format_bytes(uint64_t bytes);  // "2MiB" when exact, else plain bytes + "B"
std::string format_ns(uint64_t ns);        // "1.234ms" style, for humans only
// A number exactly as a user would write it in a scenario: integers in full ("1048576",
// "9200000000000000000"), other values as the shortest decimal that reads back the same
// ("0.001", "2.5"), never "%g" forms such as "1.04858e+06".
std::string format_exact(double v);

}  // namespace iopf::units
