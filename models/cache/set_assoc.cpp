#include "models/cache/set_assoc.hpp"

namespace iopf {

ReplPolicy parse_repl_policy(const std::string& s) {
  if (s == "lru") return ReplPolicy::kLru;
  if (s == "fifo") return ReplPolicy::kFifo;
  throw std::invalid_argument("unknown replacement policy " + s);
}

const char* repl_policy_name(ReplPolicy p) { return p == ReplPolicy::kLru ? "lru" : "fifo"; }

}  // namespace iopf
