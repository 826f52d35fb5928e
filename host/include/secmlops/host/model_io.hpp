#pragma once

#include "secmlops/host/model_session.hpp"
#include "secmlops/host/registry.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace secmlops::host {

// Metadata keys the host writes into exported models (ONNX metadata_props).
inline constexpr const char* kMetaClassLabels = "secmlops.class_labels";  // JSON array of strings
inline constexpr const char* kMetaFeatures = "secmlops.features";         // JSON array of strings
inline constexpr const char* kMetaLabelColumn = "secmlops.label_column";
inline constexpr const char* kMetaTrainAccuracy = "secmlops.train_accuracy";
inline constexpr const char* kMetaTrainLogLoss = "secmlops.train_log_loss";
inline constexpr const char* kMetaTrainRows = "secmlops.train_rows";

// ONNX metadata_props read and appended on the protobuf wire format: the host handles any
// model plugin's file without an ONNX schema of its own. Appending is valid protobuf because a
// repeated field's entries may appear anywhere in a message. Throws std::runtime_error on bytes
// that are not a well-formed message.
std::map<std::string, std::string> onnx_metadata(const std::vector<uint8_t>& bytes);
void add_onnx_metadata(std::vector<uint8_t>& bytes, const std::string& key,
                       const std::string& value);
// Class labels written by converters in the graph (classlabels_strings / classlabels_ints of the
// first ai.onnx.ml classifier node); empty when there are none.
std::vector<std::string> onnx_class_labels(const std::vector<uint8_t>& bytes);

struct LoadedModel {
  std::unique_ptr<ModelSession> session;
  std::map<std::string, std::string> metadata;
  // Names of the classes (index → label): from secmlops metadata, else from the graph's class
  // labels, else "0".."k-1".
  std::vector<std::string> class_labels;
  std::vector<std::string> features;  // feature column names when the file records them
  // For a scikit-learn pickle or joblib file: "scikit-learn <version> <estimator>"; empty for ONNX.
  std::string imported_from;
};

enum class ModelFileFormat { onnx, pickle };
// What a model file holds, by content (never by name): a pickle (protocol header, or one of
// joblib's compressors) or, failing that, ONNX.
ModelFileFormat sniff_model_format(const std::vector<uint8_t>& bytes);

// The one entry point for a model file, whatever it holds:
// - ONNX: offered to every model plugin (load_model_onnx);
// - a scikit-learn pickle or joblib file (raw or compressed): scanned first by the pickle
//   scanner, refused when any finding is at or above MEDIUM; then rebuilt by a data-only pickle
//   machine that never imports or calls anything, mapped onto the ONNX layout of the matching
//   model plugin, and loaded like an ONNX file (docs/models.md lists what is supported).
// Throws PluginError: UNSUPPORTED for a pickle that is not a supported model or that the scan
// refuses (the message says what it is and what is supported), PARSE for a malformed one (with
// the offset, and the scanner's verdict when it refuses it too), LIMIT for files above 1 GiB.
LoadedModel load_model_file(const Registry& registry, const std::filesystem::path& path);
LoadedModel load_model_bytes(const Registry& registry, const std::vector<uint8_t>& bytes,
                             const std::string& source);

// Offers an ONNX model to every model plugin's import_onnx (in registry order) until one
// accepts. Throws PluginError(UNSUPPORTED) naming the plugins tried when none represents the
// graph, or the first plugin's error when a plugin recognised but rejected the file.
// Both overloads sniff the content first and hand pickles to load_model_bytes, so callers that
// predate load_model_file accept scikit-learn files too.
LoadedModel load_model_onnx(const Registry& registry, const std::vector<uint8_t>& bytes,
                            const std::string& source);
LoadedModel load_model_onnx(const Registry& registry, const std::filesystem::path& path);

// Class names and feature columns of a model whose `session` and `metadata` are set, from the
// file's bytes (secmlops metadata, else the graph's class labels, else "0".."k-1").
void name_classes_and_features(LoadedModel& out, const std::vector<uint8_t>& bytes);

}  // namespace secmlops::host
