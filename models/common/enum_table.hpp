// One table per enum: the names of its values, written once. The same table parses a
// scenario string, prints a report value and lists the choices in "expected one of" messages
// and in list-params.
#pragma once
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace iopf {

template <class E>
struct EnumName {
  E value;
  const char* name;
};

template <class E, size_t N>
using EnumTable = std::array<EnumName<E>, N>;

template <class E, size_t N>
const char* enum_name(const EnumTable<E, N>& t, E v) {
  for (const auto& e : t)
    if (e.value == v) return e.name;
  return "?";
}

template <class E, size_t N>
std::optional<E> enum_parse(const EnumTable<E, N>& t, std::string_view s) {
  for (const auto& e : t)
    if (s == e.name) return e.value;
  return std::nullopt;
}

// "a|b|c": the choices, in table order.
template <class E, size_t N>
std::string enum_choices(const EnumTable<E, N>& t) {
  std::string s;
  for (const auto& e : t) s += (s.empty() ? "" : "|") + std::string(e.name);
  return s;
}

}  // namespace iopf
