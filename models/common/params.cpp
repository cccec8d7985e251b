#include "models/common/params.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <cstdint>
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
    case ParamType::Dist:
      return "time (\"500ns\", integer ns: a constant) or a distribution {\"dist\": \"constant|exponential|"
             "lognormal|empirical\", ...}";
    case ParamType::Arrival:
      return "arrival process: \"periodic\", \"poisson\", {\"on_off\": {rate, burst, gap, inside}} or "
             "{\"mmpp\": {rates, generator | sojourn and next}}";
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
  if (j.is_number_float()) return "number " + units::format_exact(j.get<double>());
  std::string d = j.dump(-1, ' ', false, json::error_handler_t::replace);
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
                       "unknown key \"" + InputError::printable(it.key()) + "\" in " + table.object + "; expected one of: " + keys);
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

void ObjReader::check_range(const ParamSpec& s, double v, const std::string& found) const {
  if (s.min <= s.max && (v < s.min || v > s.max))
    fail(s.name, "expected a value in [" + units::format_exact(s.min) + ", " + units::format_exact(s.max) +
                     "], found " + (found.empty() ? units::format_exact(v) : found));
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
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    const std::string found = std::to_string(v.get<uint64_t>());
    check_range(s, static_cast<double>(v.get<uint64_t>()), found);
    fail(name, "expected an integer of at most " + std::to_string(INT64_MAX) + ", found " + found);
  }
  int64_t r = v.get<int64_t>();
  check_range(s, static_cast<double>(r), std::to_string(r));
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
  if constexpr (std::is_integral_v<T>) check_range(s, static_cast<double>(*r), std::to_string(*r));
  else check_range(s, static_cast<double>(*r));
  return *r;
}

uint64_t ObjReader::bytes(const char* name) const { return with_units(name, ParamType::Bytes, units::parse_bytes); }
uint64_t ObjReader::ns(const char* name) const { return with_units(name, ParamType::Ns, units::parse_ns); }
Distribution ObjReader::dist(const char* name) const {
  json h;
  const json& v = value(spec(name, ParamType::Dist), &h);
  if (v.is_object()) return read_distribution(v, pointer(name), file_);
  return Distribution::constant(with_units(name, ParamType::Dist, units::parse_ns));
}
const json& ObjReader::raw(const char* name, ParamType want, json* holder) const {
  return value(spec(name, want), holder);
}
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

// ---- Scenario text -------------------------------------------------------------------

namespace {

// Why a JSON text was refused, and where.
struct JsonFailure {
  enum Kind { kNone, kSyntax, kOverflow, kDepth } kind = kNone;
  std::string pointer;
  std::string what;
};

// A SAX pass that builds nothing: it bounds the nesting depth (deep documents overflow the
// stack in nlohmann's recursive copy and dump) and knows the JSON pointer of the value being
// read when the text stops making sense.
class ScanSax : public json::json_sax_t {
 public:
  explicit ScanSax(JsonFailure* f) : f_(f) {}
  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t) override { return scalar(); }
  bool number_unsigned(number_unsigned_t) override { return scalar(); }
  bool number_float(number_float_t, const string_t&) override { return scalar(); }
  bool string(string_t&) override { return scalar(); }
  bool binary(binary_t&) override { return scalar(); }
  bool start_object(std::size_t) override { return open(false); }
  bool key(string_t& k) override {
    frames_.back().key = k;
    frames_.back().has_key = true;
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string& token, const nlohmann::detail::exception& ex) override {
    f_->pointer = pointer();
    if (ex.id == 406) {  // out_of_range.406: a number beyond a double
      f_->kind = JsonFailure::kOverflow;
      f_->what = "expected a number that fits in a double, found " +
                 (token.size() > 60 ? token.substr(0, 57) + "..." : token);
    } else {
      f_->kind = JsonFailure::kSyntax;
      std::string w = ex.what();
      const std::string tag = "parse error ";  // drop "[json.exception.parse_error.101] parse error "
      const size_t at = w.find(tag);
      if (at != std::string::npos) w = w.substr(at + tag.size());
      if (w.size() > 300) w = w.substr(0, 297) + "...";  // "last read: ..." may quote a long token
      f_->what = "not valid JSON: " + w;
    }
    return false;
  }

 private:
  struct Frame {
    bool array = false;
    bool has_key = false;
    size_t index = 0;
    std::string key;
  };
  bool scalar() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  bool open(bool array) {
    if (frames_.size() >= kMaxJsonDepth) {
      f_->kind = JsonFailure::kDepth;
      f_->pointer = pointer();
      f_->what = "expected JSON nested at most " + std::to_string(kMaxJsonDepth) +
                 " deep (a scenario needs 6), found deeper nesting";
      return false;
    }
    frames_.push_back(Frame{array, false, 0, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return scalar();
  }
  std::string pointer() const {
    std::string p;
    for (const Frame& f : frames_) {
      if (f.array) p += "/" + std::to_string(f.index);
      else if (f.has_key) p += "/" + escape_pointer_token(f.key);
    }
    return p;
  }
  JsonFailure* f_;
  std::vector<Frame> frames_;
};

// Parses text, or says why not. Only texts the scan accepted reach the DOM parser.
JsonFailure parse_bounded(const std::string& text, json* out) {
  JsonFailure f;
  ScanSax sax(&f);
  const bool ok = json::sax_parse(text, &sax, json::input_format_t::json, /*strict=*/true,
                                  /*ignore_comments=*/false);
  if (!ok) {
    if (f.kind == JsonFailure::kNone) {  // a refusal without a reason: should not happen
      f.kind = JsonFailure::kSyntax;
      f.what = "not valid JSON";
    }
    return f;
  }
  *out = json::parse(text, nullptr, true, /*ignore_comments=*/false);
  return f;
}

std::vector<std::string> split_pointer(const json::json_pointer& ptr) {
  std::vector<std::string> tokens;
  json::json_pointer jp = ptr;
  while (!jp.empty()) {
    tokens.insert(tokens.begin(), jp.back());
    jp.pop_back();
  }
  return tokens;
}

bool valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

}  // namespace

std::string read_scenario_file(const std::string& path) {
  if (path.empty()) throw InputError("(empty file name)", "", "expected the path of a scenario file");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path, "", std::string("cannot open the file for reading: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw InputError(path, "", "expected a scenario file, found a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open the file for reading");
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxScenarioFileBytes)
      throw InputError(path, "", "expected a scenario file of at most " + units::format_bytes(kMaxScenarioFileBytes) +
                                     ", found a larger one");
  }
  if (in.bad()) throw InputError(path, "", "reading the file failed");
  return text;
}

json parse_scenario_json(const std::string& text, const std::string& file) {
  json doc;
  const JsonFailure f = parse_bounded(text, &doc);
  if (f.kind != JsonFailure::kNone)
    throw InputError(file, f.pointer.size() > 400 ? f.pointer.substr(0, 397) + "..." : f.pointer, f.what);
  return doc;
}

void apply_override(json& doc, const std::string& file, const std::string& o) {
  const size_t eq = o.find('=');
  if (eq == std::string::npos || o.empty() || o[0] != '/')
    throw InputError(file, "", "--set expects /json/pointer=value, found \"" + o + "\"");
  const std::string ptr = o.substr(0, eq);
  const std::string text = o.substr(eq + 1);
  if (!valid_utf8(o)) throw InputError(file, "", "--set expects UTF-8 text, found invalid bytes in \"" + o + "\"");
  json::json_pointer jp;
  try {
    jp = json::json_pointer(ptr);
  } catch (const json::exception& e) {
    throw InputError(file, ptr, std::string("--set: not a valid JSON pointer: ") + e.what());
  }
  const std::vector<std::string> tokens = split_pointer(jp);
  if (tokens.size() > kMaxJsonDepth / 2)
    throw InputError(file, ptr, "--set: expected a pointer at most " + std::to_string(kMaxJsonDepth / 2) +
                                    " deep, found " + std::to_string(tokens.size()));
  json value;
  const JsonFailure f = parse_bounded(text, &value);
  if (f.kind == JsonFailure::kSyntax) value = text;  // "2Mpps", "4KiB": unit strings are JSON strings
  else if (f.kind != JsonFailure::kNone)
    throw InputError(file, ptr, "--set: " + f.what + (f.pointer.empty() ? "" : " (at " + f.pointer + " of the value)"));
  // Missing objects on the way are created (/engine/quantum=5us with no engine block); an
  // array element must already exist, and nothing on the way may be a string or number.
  json* at = &doc;
  json::json_pointer where;
  for (const std::string& token : tokens) {
    if (at->is_null()) *at = json::object();
    if (at->is_object()) {
      at = &(*at)[token];
    } else if (at->is_array()) {
      size_t idx = 0;
      bool digits = !token.empty() && token.size() <= 9 && (token == "0" || token[0] != '0');
      for (char c : token) digits = digits && c >= '0' && c <= '9';
      if (digits) idx = std::stoul(token);
      if (!digits || idx >= at->size())
        throw InputError(file, ptr, "--set: expected an existing array element at " + (where / token).to_string() +
                                        " (the array has " + std::to_string(at->size()) + " elements)");
      at = &(*at)[idx];
    } else {
      throw InputError(file, ptr, "--set: expected an object or array at " + (where.empty() ? std::string("/") : where.to_string()) + ", found " +
                                      describe_json(*at));
    }
    where /= token;
  }
  *at = std::move(value);
}

}  // namespace iopf
