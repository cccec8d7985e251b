#include "models/common/params.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <optional>
#include <type_traits>
#include <sstream>

#include "models/common/input_error.hpp"
#include "models/common/units.hpp"

namespace iopf {
using nlohmann::json;

namespace {
std::vector<const ParamTable*>& tables() {
  static std::vector<const ParamTable*> t;
  return t;
}
const char* type_name(ParamType t) {
  switch (t) {
    case ParamType::Bool: return "boolean";
    case ParamType::Int: return "integer";
    case ParamType::Double: return "number";
    case ParamType::Bytes: return "size (\"4KiB\", \"2MiB\" or integer bytes)";
    case ParamType::Ns: return "time (\"500ns\", \"10us\", \"5ms\" or integer ns)";
    case ParamType::Rate: return "rate (\"2Mpps\", \"500kops\" or a number per second)";
    case ParamType::Bandwidth: return "bandwidth (\"16GB/s\", \"128Gbps\" or bytes per second)";
    case ParamType::String: return "string";
    case ParamType::Enum: return "one of";
  }
  return "?";
}
// RFC 6901: "~" is written "~0" and "/" is written "~1" inside a pointer token.
std::string escape_pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}
}  // namespace

const std::vector<const ParamTable*>& all_param_tables() { return tables(); }
void register_param_table(const ParamTable* t) { tables().push_back(t); }

std::string describe_param_tables() {
  std::ostringstream os;
  for (const ParamTable* t : tables()) {
    os << t->object << "\n";
    for (const ParamSpec& s : t->specs) {
      os << "  " << s.name << ": " << type_name(s.type);
      if (s.type == ParamType::Enum) os << " " << s.choices;
      os << (s.default_json ? std::string(" = ") + s.default_json : std::string(" (required)")) << "\n";
      os << "      " << s.description << "\n";
      if (s.source && *s.source) os << "      source: " << s.source << "\n";
    }
  }
  return os.str();
}

std::string describe_json(const json& j) {
  std::string d = j.dump();
  if (d.size() > 60) d = d.substr(0, 57) + "...";
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean " + d;
    case json::value_t::string: return "string " + d;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number " + d;
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    default: return d;
  }
}

ObjReader::ObjReader(const json& obj, std::string pointer, const std::string& file, const ParamTable& table,
                     std::vector<std::string> nested)
    : obj_(obj), ptr_(std::move(pointer)), file_(file), table_(table) {
  if (!obj_.is_object())
    throw InputError(file_, ptr_, std::string("expected an object (") + table.object + "), found " + describe_json(obj_));
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    bool known = false;
    for (const ParamSpec& s : table_.specs) known = known || it.key() == s.name;
    for (const std::string& n : nested) known = known || it.key() == n;
    if (!known) {
      std::string keys;
      for (const ParamSpec& s : table_.specs) keys += (keys.empty() ? "" : ", ") + std::string(s.name);
      for (const std::string& n : nested) keys += (keys.empty() ? "" : ", ") + n;
      throw InputError(file_, ptr_ + "/" + escape_pointer_token(it.key()),
                       "unknown key \"" + it.key() + "\" in " + table.object + "; expected one of: " + keys);
    }
  }
}

void ObjReader::fail(const char* name, const std::string& msg) const { throw InputError(file_, pointer(name), msg); }

const ParamSpec& ObjReader::spec(const char* name, ParamType want) const {
  for (const ParamSpec& s : table_.specs)
    if (std::string(s.name) == name) {
      if (s.type != want) throw std::logic_error(std::string("param ") + name + " read with the wrong type");
      return s;
    }
  throw std::logic_error(std::string("param ") + name + " not declared in " + table_.object);
}

bool ObjReader::has(const char* name) const { return obj_.contains(name); }

const json& ObjReader::value(const ParamSpec& s, json* holder) const {
  auto it = obj_.find(s.name);
  if (it != obj_.end()) return *it;
  if (!s.default_json) throw InputError(file_, ptr_, std::string("missing required key \"") + s.name + "\" (" + s.description + ")");
  *holder = json::parse(s.default_json);
  return *holder;
}

void ObjReader::check_range(const ParamSpec& s, double v) const {
  if (s.min <= s.max && (v < s.min || v > s.max)) {
    std::ostringstream os;
    os << "expected a value in [" << s.min << ", " << s.max << "], found " << v;
    fail(s.name, os.str());
  }
}

bool ObjReader::boolean(const char* name) const {
  const ParamSpec& s = spec(name, ParamType::Bool);
  json h;
  const json& v = value(s, &h);
  if (!v.is_boolean()) fail(name, "expected a boolean, found " + describe_json(v));
  return v.get<bool>();
}

int64_t ObjReader::integer(const char* name) const {
  const ParamSpec& s = spec(name, ParamType::Int);
  json h;
  const json& v = value(s, &h);
  if (!v.is_number_integer()) fail(name, "expected an integer, found " + describe_json(v));
  int64_t r = v.get<int64_t>();
  check_range(s, static_cast<double>(r));
  return r;
}

double ObjReader::real(const char* name) const {
  const ParamSpec& s = spec(name, ParamType::Double);
  json h;
  const json& v = value(s, &h);
  if (!v.is_number()) fail(name, "expected a number, found " + describe_json(v));
  double r = v.get<double>();
  check_range(s, r);
  return r;
}

template <class T>
T ObjReader::with_units(const char* name, ParamType type, std::optional<T> (*parse)(const std::string&)) const {
  const ParamSpec& s = spec(name, type);
  json h;
  const json& v = value(s, &h);
  std::optional<T> r;
  if (v.is_number_unsigned() || (std::is_floating_point_v<T> && v.is_number() && v.get<double>() >= 0))
    r = v.get<T>();
  else if (v.is_string())
    r = parse(v.get<std::string>());
  if (r && *r == 0 && s.min > 0) r.reset();  // zero only where the table allows it
  if (!r) fail(name, std::string("expected a ") + type_name(s.type) + ", found " + describe_json(v));
  check_range(s, static_cast<double>(*r));
  return *r;
}

uint64_t ObjReader::bytes(const char* name) const { return with_units(name, ParamType::Bytes, units::parse_bytes); }
uint64_t ObjReader::ns(const char* name) const { return with_units(name, ParamType::Ns, units::parse_ns); }
double ObjReader::rate_per_s(const char* name) const {
  return with_units(name, ParamType::Rate, units::parse_rate_per_s);
}
double ObjReader::bandwidth_bytes_per_s(const char* name) const {
  return with_units(name, ParamType::Bandwidth, units::parse_bandwidth_bytes_per_s);
}

std::string ObjReader::str(const char* name) const {
  const ParamSpec& s = spec(name, ParamType::String);
  json h;
  const json& v = value(s, &h);
  if (!v.is_string()) fail(name, "expected a string, found " + describe_json(v));
  return v.get<std::string>();
}

std::string ObjReader::enumeration(const char* name) const {
  const ParamSpec& s = spec(name, ParamType::Enum);
  json h;
  const json& v = value(s, &h);
  if (v.is_string()) {
    std::string got = v.get<std::string>();
    std::stringstream ss(s.choices);
    std::string c;
    while (std::getline(ss, c, '|'))
      if (c == got) return got;
  }
  fail(name, std::string("expected one of ") + s.choices + ", found " + describe_json(v));
}

}  // namespace iopf
