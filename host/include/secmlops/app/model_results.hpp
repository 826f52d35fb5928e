#pragma once

// Conversions between the host's model figures and the result messages.
#include "secmlops/host/model_eval.hpp"
#include "secmlops/host/model_session.hpp"
#include "secmlops/host/run_recorder.hpp"
#include "secmlops/v1/common.pb.h"
#include "secmlops/v1/dataset.pb.h"
#include "secmlops/v1/model_service.pb.h"

#include <google/protobuf/repeated_field.h>

namespace secmlops::app {

host::KeyValues to_key_values(const google::protobuf::RepeatedPtrField<v1::KeyValue>& kv);
v1::ClassificationMetrics to_proto(const host::ClassificationMetrics& m);
v1::OverfittingReport to_proto(const host::OverfittingReport& r);
host::ClassificationMetrics from_proto(const v1::ClassificationMetrics& m);
void add_metrics(const host::Emitted& e, google::protobuf::RepeatedPtrField<v1::Metric>& out);
void add_properties(const host::Emitted& e, google::protobuf::RepeatedPtrField<v1::KeyValue>& out);
// A dataset as an MLflow dataset input: name, digest, source URI.
void record_dataset(host::RunRecorder& run, const v1::DatasetRecord& d);

}  // namespace secmlops::app
