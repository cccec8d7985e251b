#include "models/pagetable/page_table.hpp"

#include <stdexcept>

#include "models/pagetable/page_table_impl.hpp"

namespace iopf {

uint64_t PageTable::alloc_table() {
  uint64_t pa = TableMemory::instance().alloc();
  ++tables_;
  if (hook_.on_table) hook_.on_table(pa, true);
  return pa;
}

void PageTable::free_table(uint64_t pa) {
  if (hook_.on_table) hook_.on_table(pa, false);
  TableMemory::instance().free(pa);
  --tables_;
}

namespace {
using Maker = std::unique_ptr<PageTable> (*)(const std::string&, PageTable::AddrHook);
using Describer = FormatInfo (*)(std::string);
template <class F, int L>
std::unique_ptr<PageTable> make(const std::string& n, PageTable::AddrHook h) {
  return std::make_unique<PageTableImpl<F, L>>(n, std::move(h));
}
struct Entry {
  const char* name;
  Maker maker;
  Describer info;
};
template <class F, int L>
constexpr Entry entry(const char* name) {
  return {name, make<F, L>, PageTableImpl<F, L>::format_info};
}
const Entry kFormats[] = {
    entry<fmt::X86FirstLevel, 4>("x86_64_4level"),
    entry<fmt::X86FirstLevel, 5>("x86_64_5level"),
    entry<fmt::VtdSecondStage, 3>("vtd_ss_3level"),
    entry<fmt::VtdSecondStage, 4>("vtd_ss_4level"),
    entry<fmt::VtdSecondStage, 5>("vtd_ss_5level"),
    entry<fmt::VtdSecondStage, 4>("ept_4level"),
    entry<fmt::ArmVmsa<false>, 3>("arm64_s1_3level"),
    entry<fmt::ArmVmsa<false>, 4>("arm64_s1_4level"),
    entry<fmt::ArmVmsa<true>, 3>("arm64_s2_3level"),
    entry<fmt::ArmVmsa<true>, 4>("arm64_s2_4level"),
    entry<fmt::AmdV1, 3>("amd_v1_3level"),
    entry<fmt::AmdV1, 4>("amd_v1_4level"),
    entry<fmt::AmdV1, 5>("amd_v1_5level"),
};
}  // namespace

namespace {
const Entry* find_format(const std::string& name) {
  for (const Entry& e : kFormats)
    if (name == e.name) return &e;
  return nullptr;
}
const Entry& format(const std::string& name) {
  if (const Entry* e = find_format(name)) return *e;
  throw std::invalid_argument("unknown page-table format " + name);
}
}  // namespace

std::unique_ptr<PageTable> make_page_table(const std::string& name, PageTable::AddrHook hook) {
  return format(name).maker(name, std::move(hook));
}

FormatInfo page_table_format_info(const std::string& name) { return format(name).info(name); }

std::vector<std::string> page_table_format_names() {
  std::vector<std::string> v;
  for (const Entry& e : kFormats) v.emplace_back(e.name);
  return v;
}

bool is_page_table_format(const std::string& name) { return find_format(name) != nullptr; }

}  // namespace iopf
