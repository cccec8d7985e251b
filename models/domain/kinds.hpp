// The domain kinds: what each one is called, says of itself, declares as parameters, and
// how it is built. The list is explicit (models/domain/kinds.cpp, one line per kind): the
// core is a static library, and a self-registering object file that nothing references
// would be dropped at link time.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "models/device/params.hpp"
#include "models/domain/domain.hpp"
#include "models/domain/params.hpp"

namespace iopf {

class ObjReader;
struct ParamTable;

struct DomainKindInfo {
  const char* name;
  const char* description;  // one line, for list-kinds
  const ParamTable* params;  // the kind's own keys, beside the common domain keys
  // Reads the kind's keys from a domain object (r holds the common and the kind's keys).
  std::shared_ptr<const DomainKindParams> (*read)(const ObjReader& r, const DomainSpec& common);
  // What the domain pins at start, given the devices attached to it.
  PinPlan (*pin_plan)(const DomainSpec& spec, const std::vector<const DeviceSpec*>& devices);
  std::unique_ptr<Domain> (*make)(const DomainSpec& spec, uint32_t id);
  // Pages of this kind can be absent and fault back (a scripted zap may take them away).
  bool pages_can_fault;
};

const std::vector<const DomainKindInfo*>& domain_kinds();
const DomainKindInfo* find_domain_kind(std::string_view name);  // nullptr when unknown
std::string domain_kind_choices();                               // "pinned|shared_tdp|..."

// A domain kind's params as the kind's own struct.
template <class P>
const P& kind_params(const DomainSpec& spec) {
  return static_cast<const P&>(*spec.kind_params);
}

}  // namespace iopf
