#include "tf_op_policy.hpp"

#include <algorithm>
#include <array>

namespace secmlops::plugins::savedmodel {
namespace {

template <size_t N>
bool in(const std::array<std::string_view, N>& list, std::string_view op) {
  return std::find(list.begin(), list.end(), op) != list.end();
}

// Call a Python function registered in the loading process (tf.py_function / tf.numpy_function).
constexpr std::array<std::string_view, 3> kPython = {"PyFunc", "PyFuncStateless", "EagerPyFunc"};

// Read arbitrary files named by a tensor.
constexpr std::array<std::string_view, 27> kFileRead = {"ReadFile",
                                                        "MatchingFiles",
                                                        "MatchingFilesDataset",
                                                        "ExperimentalMatchingFilesDataset",
                                                        "WholeFileReader",
                                                        "WholeFileReaderV2",
                                                        "TextLineReader",
                                                        "TextLineReaderV2",
                                                        "FixedLengthRecordReader",
                                                        "FixedLengthRecordReaderV2",
                                                        "TFRecordReader",
                                                        "TFRecordReaderV2",
                                                        "LMDBReader",
                                                        "TextLineDataset",
                                                        "TFRecordDataset",
                                                        "TFRecordDatasetV2",
                                                        "FixedLengthRecordDataset",
                                                        "FixedLengthRecordDatasetV2",
                                                        "LoadDataset",
                                                        "ExperimentalLMDBDataset",
                                                        "LMDBDataset",
                                                        "InitializeTableFromTextFile",
                                                        "InitializeTableFromTextFileV2",
                                                        "LoadAndRemapMatrix",
                                                        "ImmutableConst",
                                                        "SqlDataset",
                                                        "ExperimentalSqlDataset"};

// Write, move or delete files.
constexpr std::array<std::string_view, 14> kFileWrite = {"WriteFile",
                                                         "SaveDataset",
                                                         "SaveDatasetV2",
                                                         "ExperimentalSaveDataset",
                                                         "DatasetToTFRecord",
                                                         "ExperimentalDatasetToTFRecord",
                                                         "CreateSummaryFileWriter",
                                                         "CreateSummaryDbWriter",
                                                         "SnapshotDataset",
                                                         "SnapshotDatasetV2",
                                                         "MergeV2Checkpoints",
                                                         "DebugIdentityV2",
                                                         "WriteRawProtoSummary",
                                                         "CacheDatasetV2"};

// Talk to other machines.
constexpr std::array<std::string_view, 10> kNetwork = {"DataServiceDataset",
                                                       "DataServiceDatasetV2",
                                                       "DataServiceDatasetV3",
                                                       "DataServiceDatasetV4",
                                                       "RpcClient",
                                                       "RpcCall",
                                                       "RpcServer",
                                                       "RpcServerStart",
                                                       "DebugIdentity",
                                                       "DebugNumericSummaryV2"};

constexpr std::array<std::string_view, 6> kCheckpoint = {"Save",    "SaveV2",    "SaveSlices",
                                                         "Restore", "RestoreV2", "RestoreSlice"};

}  // namespace

OpRisk classify_op(std::string_view op) {
  if (in(kPython, op))
    return {SECMLOPS_SEVERITY_CRITICAL, "SAVEDMODEL-PYTHON-OP",
            "calls a Python function of the loading process"};
  if (in(kFileWrite, op))
    return {SECMLOPS_SEVERITY_HIGH, "SAVEDMODEL-FILE-WRITE", "writes, moves or deletes files"};
  if (in(kFileRead, op))
    return {SECMLOPS_SEVERITY_HIGH, "SAVEDMODEL-FILE-READ", "reads files named by a tensor"};
  if (in(kNetwork, op))
    return {SECMLOPS_SEVERITY_HIGH, "SAVEDMODEL-NETWORK-OP", "opens network connections"};
  return {SECMLOPS_SEVERITY_INFO, nullptr, nullptr};
}

bool is_checkpoint_op(std::string_view op) { return in(kCheckpoint, op); }

}  // namespace secmlops::plugins::savedmodel
