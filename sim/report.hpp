// The JSON report (schema "iopfsim.report/1") and the human summary, from one finished run.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <string>

#include "sim/engine.hpp"
#include "sim/system.hpp"

namespace iopf {

nlohmann::json make_report(const System& sys, const EngineStats& st);
std::string format_summary(const nlohmann::json& report);

}  // namespace iopf
