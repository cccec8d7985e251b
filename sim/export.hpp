// `iopfsim export`: one report as what CI dashboards ingest. See export.cpp for each format.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace iopf {

const std::vector<std::string>& export_formats();  // github-smaller, github-bigger, bencher, gbench, csv

// The text of `report` (read from `file`, named in errors) in `format`. InputError when the
// format is unknown or the report is not one.
std::string export_report(const nlohmann::json& report, const std::string& file, const std::string& format);

}  // namespace iopf
