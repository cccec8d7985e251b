#include "models/domain/kinds.hpp"

namespace iopf {

// The domain kinds, one line each: the DomainKindInfo its file (models/domain/<kind>.cpp) defines.
#define IOPF_DOMAIN_KINDS(KIND) \
  KIND(kPinnedKind)             \
  KIND(kSharedTdpKind)          \
  KIND(kNestedKind)             \
  KIND(kShadowKind)             \
  KIND(kKvmOwnedKind)           \
  KIND(kHypPrivateKind)         \
  KIND(kSnpKind)

#define IOPF_DECLARE_KIND(info) extern const DomainKindInfo info;
IOPF_DOMAIN_KINDS(IOPF_DECLARE_KIND)
#undef IOPF_DECLARE_KIND

const std::vector<const DomainKindInfo*>& domain_kinds() {
#define IOPF_LIST_KIND(info) &info,
  static const std::vector<const DomainKindInfo*> all = {IOPF_DOMAIN_KINDS(IOPF_LIST_KIND)};
#undef IOPF_LIST_KIND
  return all;
}

const DomainKindInfo* find_domain_kind(std::string_view name) {
  for (const DomainKindInfo* k : domain_kinds())
    if (name == k->name) return k;
  return nullptr;
}

std::string domain_kind_choices() {
  std::string s;
  for (const DomainKindInfo* k : domain_kinds()) s += (s.empty() ? "" : "|") + std::string(k->name);
  return s;
}

}  // namespace iopf
