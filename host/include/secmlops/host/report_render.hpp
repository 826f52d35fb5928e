#pragma once

#include "secmlops/host/proto_fwd.hpp"

#include <ostream>
#include <string>

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace secmlops::host {

// Protobuf's canonical JSON mapping (lowerCamelCase names), pretty-printed.
std::string to_json(const google::protobuf::Message& message);

// Human-readable scan report: one block per file with findings, then a summary line.
void render_text(const v1::ScanReport& report, std::ostream& out);

// SARIF 2.1.0 (GitHub code scanning): rules, results with fingerprints, and files that could not
// be scanned as tool execution notifications. Implemented in sarif.cpp.
std::string to_sarif(const v1::ScanReport& report);

// Human-readable plugin table.
void render_text(const v1::PluginList& list, std::ostream& out);

// "file!/member!/member @ offset (detail)".
std::string format_location(const v1::Location& location);

}  // namespace secmlops::host
