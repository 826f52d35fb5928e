#pragma once

// The schema's messages and its severity as declarations only: host headers name them in
// signatures without pulling the generated headers (and protobuf's) into every user. Code that
// builds or reads a message includes its `secmlops/v1/*.pb.h` itself.

namespace secmlops::v1 {

enum Severity : int;  // report.proto; protoc declares it with this underlying type
enum SigningStatus : int;

class AttackReport;
class DatasetRecord;
class FileReport;
class Finding;
class Location;
class PipelineReport;
class PluginList;
class PrivacyReport;
class RobustnessPoint;
class ScanReport;
class SignRequest;
class SignResult;
class VerifyRequest;
class VerifyResult;

}  // namespace secmlops::v1

namespace secmlops::host {

// report.proto's MEDIUM, for defaults in headers; printable.cpp checks it against the schema.
inline constexpr v1::Severity kSeverityMedium = static_cast<v1::Severity>(3);

}  // namespace secmlops::host
