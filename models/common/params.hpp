// Parameters are declared once, as a ParamSpec table per scenario object kind. The same
// table validates the JSON (types, ranges, unknown keys), fills defaults and prints the
// schema (`iopfsim list-params`), in the manner of Ramulator 2's parameter reader.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/common/distribution.hpp"
#include "models/common/enum_table.hpp"

namespace iopf {

// Dist: a time (a constant) or a distribution object (distribution.hpp); Arrival: an arrival
// process (models/device/arrivals.hpp), read by its owner from raw().
enum class ParamType { Bool, Int, Double, Bytes, Ns, Rate, Bandwidth, String, Enum, Dist, Arrival };

struct ParamSpec {
  const char* name;
  ParamType type;
  const char* default_json;  // JSON text of the default; nullptr means required
  const char* description;
  const char* source;        // where the default figure comes from
  std::string choices = "";  // Enum: "a|b|c", from the enum's one table (enum_choices)
  double min = 0;            // inclusive range for numeric kinds (min > max disables)
  double max = -1;
};

struct ParamTable {
  const char* object;        // "device", "domain", "iommu.iotlb", ...
  std::vector<ParamSpec> specs;
};

// Every table, for list-params and the docs.
const std::vector<const ParamTable*>& all_param_tables();
void register_param_table(const ParamTable* t);
std::string describe_param_tables();

// Reads one JSON object against its table. Keys not in the table (nor in `nested`, the
// sub-objects and arrays the caller reads itself) are errors.
class ObjReader {
 public:
  ObjReader(const nlohmann::json& obj, std::string pointer, const std::string& file, const ParamTable& table,
            std::vector<std::string> nested = {});
  bool boolean(const char* name) const;
  int64_t integer(const char* name) const;
  double real(const char* name) const;
  uint64_t bytes(const char* name) const;
  uint64_t ns(const char* name) const;
  double rate_per_s(const char* name) const;
  double bandwidth_bytes_per_s(const char* name) const;
  std::string str(const char* name) const;
  std::string enumeration(const char* name) const;
  // A time as ns() reads it (a constant, range-checked), or a distribution object
  // (read_distribution).
  Distribution dist(const char* name) const;
  // The value of a key of type `want` as written, or its default: for readers outside this
  // file (an Arrival).
  const nlohmann::json& raw(const char* name, ParamType want, nlohmann::json* holder) const;
  // An enum value by its one table (the parameter's choices are that table's names).
  template <class E, size_t N>
  E choice(const char* name, const EnumTable<E, N>& t) const {
    return *enum_parse(t, enumeration(name));
  }
  bool has(const char* name) const;  // present in the file (not defaulted)
  std::string pointer(const char* name) const { return ptr_ + "/" + name; }
  const std::string& file() const { return file_; }
  const std::string& base_pointer() const { return ptr_; }
  [[noreturn]] void fail(const char* name, const std::string& msg) const;

 private:
  const ParamSpec& spec(const char* name, ParamType want) const;
  const nlohmann::json& value(const ParamSpec& s, nlohmann::json* holder) const;
  // found: the value as the user wrote it (integers in full); empty prints v exactly.
  void check_range(const ParamSpec& s, double v, const std::string& found = "") const;
  // A number in base units, or a unit string the parser reads.
  template <class T>
  T with_units(const char* name, ParamType type, std::optional<T> (*parse)(const std::string&)) const;

  const nlohmann::json& obj_;
  std::string ptr_;
  const std::string& file_;
  const ParamTable& table_;
};

std::string describe_json(const nlohmann::json& j);  // "string \"abc\"", "number 3", ...

// Scenario text at the boundary. Every failure is an InputError naming the file, the JSON
// pointer (where the text stopped making sense) and what was expected.
constexpr size_t kMaxScenarioFileBytes = 64u << 20;  // a scenario is a few KiB
constexpr size_t kMaxJsonDepth = 64;                 // a scenario nests 6 deep
// The whole file; refuses directories, unreadable files and files over kMaxScenarioFileBytes.
std::string read_scenario_file(const std::string& path);
// JSON text -> document: syntax errors, numbers beyond a double and nesting deeper than
// kMaxJsonDepth are InputErrors with the pointer of the value being read.
nlohmann::json parse_scenario_json(const std::string& text, const std::string& file);
// One --set override "/json/pointer=value" (value: JSON, or else a string such as "2Mpps").
// Objects missing on the way are created; array elements must exist.
void apply_override(nlohmann::json& doc, const std::string& file, const std::string& set);

}  // namespace iopf
