#include "steps.hpp"

#include "synthetic.hpp"

#include "secmlops/app/data.hpp"
#include "secmlops/app/operations.hpp"
#include "secmlops/host/model_eval.hpp"
#include "secmlops/host/report_render.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

namespace secmlops::app::pipeline {
namespace {

// The dataset a reference names among the step's inputs.
const v1::DatasetRecord& dataset(const StepContext& c, const std::string& ref) {
  auto it = c.inputs.find(ref_step(ref));
  if (it != c.inputs.end())
    for (const auto& d : it->second.datasets())
      if (d.name() == ref) return d;
  fail(AppError::Code::failed_precondition, "dataset '" + ref + "' was not produced");
}

// The models trained by the referenced train steps.
std::vector<const v1::TrainResponse*> models(const StepContext& c,
                                             const std::vector<std::string>& steps) {
  std::vector<const v1::TrainResponse*> out;
  for (const auto& id : steps) {
    auto it = c.inputs.find(id);
    if (it == c.inputs.end())
      fail(AppError::Code::failed_precondition, "train step '" + id + "' did not run");
    for (const auto& m : it->second.models()) out.push_back(&m);
  }
  return out;
}

v1::CsvData csv_of(const v1::DatasetRecord& d, bool with_label) {
  v1::CsvData csv;
  csv.set_path(d.path());
  csv.set_has_header(true);
  csv.set_name(d.name());
  if (with_label) csv.set_label_column(d.label_column());
  return csv;
}

// Writes the given rows of a CSV table (header first), the cells as read.
std::string header_text(const host::CsvTable& t) {
  std::string out;
  for (size_t c = 0; c < t.header.size(); ++c)
    out += (c ? "," : "") + host::csv_escape(t.header[c]);
  return out + "\n";
}

std::string rows_text(const host::CsvTable& t, const std::vector<size_t>& rows) {
  std::string out = header_text(t);
  for (size_t r : rows) {
    for (size_t c = 0; c < t.fields; ++c) out += (c ? "," : "") + host::csv_escape(t.rows[r][c]);
    out += "\n";
  }
  return out;
}

// The table with every feature column scaled as scikit-learn's StandardScaler or MinMaxScaler
// does (population standard deviation; a constant column keeps scale 1), the parameters fitted on
// `fit_rows` (every row when null) and applied to every row; the label column is kept as text.
std::string scaled_text(const Table& t, const std::string& kind,
                        const std::vector<size_t>* fit_rows) {
  const size_t n = t.x.rows, k = t.x.cols;
  std::vector<size_t> all;
  if (fit_rows == nullptr) {
    all.resize(n);
    for (size_t i = 0; i < n; ++i) all[i] = i;
    fit_rows = &all;
  }
  if (fit_rows->empty())
    fail(AppError::Code::invalid_argument, "scale: no rows to fit the scaler on");
  std::vector<double> shift(k, 0.0), scale(k, 1.0);
  for (size_t j = 0; j < k; ++j) {
    if (kind == "standard") {
      double mean = 0, m2 = 0, count = 0;
      for (size_t r : *fit_rows) {  // Welford: one pass, stable for large offsets
        const double v = t.x(r, j), d = v - mean;
        mean += d / ++count;
        m2 += d * (v - mean);
      }
      const double sd = std::sqrt(m2 / count);
      shift[j] = mean;
      scale[j] = sd > 0 ? sd : 1.0;
    } else {
      double lo = t.x((*fit_rows)[0], j), hi = lo;
      for (size_t r : *fit_rows) lo = std::min(lo, t.x(r, j)), hi = std::max(hi, t.x(r, j));
      shift[j] = lo;
      scale[j] = hi > lo ? hi - lo : 1.0;
    }
  }
  std::vector<int64_t> feature_of(t.csv.fields, -1);
  for (size_t j = 0; j < k; ++j) feature_of[t.csv.column(t.features[j])] = static_cast<int64_t>(j);
  std::string out = header_text(t.csv);
  for (size_t r = 0; r < n; ++r) {
    for (size_t c = 0; c < t.csv.fields; ++c) {
      if (c) out += ",";
      if (int64_t j = feature_of[c]; j >= 0)
        out += format_number((t.x(r, j) - shift[j]) / scale[j]);
      else
        out += host::csv_escape(t.csv.rows[r][c]);
    }
    out += "\n";
  }
  return out;
}

// Reads a CSV the pipeline wrote or was given, as a dataset record named `name`.
v1::DatasetRecord record_of(const StepContext& c, const std::filesystem::path& path,
                            const std::string& label, const std::string& name,
                            Table* keep = nullptr) {
  v1::CsvData csv;
  csv.set_path(path.string());
  csv.set_has_header(true);
  csv.set_label_column(label);
  csv.set_name(name);
  auto t = load_csv(c.env, csv, LabelRule::none_unless_named);
  auto r = t.record;
  if (keep) *keep = std::move(t);
  return r;
}

// Known-hostile sample files, built byte by byte (never by running a pickler): a pickle whose
// REDUCE would call os.system, and a safetensors file whose header lies about its tensor size.
std::vector<std::filesystem::path> write_samples(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::string cmd = "echo pwned";
  std::string pickle =
      "\x80\x02"
      "cposix\nsystem\n"
      "X";
  for (int i = 0; i < 4; ++i) pickle += static_cast<char>((cmd.size() >> (8 * i)) & 0xff);
  pickle += cmd +
            "\x85"
            "R.";
  std::string header = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,32]}})";
  std::string st;
  for (int i = 0; i < 8; ++i) st += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  st += header + std::string(16, '\0');
  auto a = dir / "malicious_model.pkl", b = dir / "tampered_weights.safetensors";
  write_text(a, pickle);
  write_text(b, st);
  return {a, b};
}

}  // namespace

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) fail(AppError::Code::internal, path.string() + ": cannot write");
}

void PipelineModels::add(const std::string& id, TrainedModel model, const std::string& name) {
  auto k = std::make_shared<Kept>();
  k->model = std::move(model);
  k->name = name;
  std::lock_guard l(mu_);
  models_[id] = std::move(k);
}

ModelUse PipelineModels::use(const std::string& id) {
  std::shared_ptr<Kept> k;
  {
    std::lock_guard l(mu_);
    auto it = models_.find(id);
    if (it == models_.end())
      fail(AppError::Code::not_found, "no model '" + id + "' in this pipeline");
    k = it->second;
  }
  ModelUse use;
  use.lock = std::unique_lock(k->mu);
  use.session = k->model.session.get();
  use.classes = k->model.classes;
  use.features = k->model.features;
  use.metadata = k->model.metadata;
  use.name = k->name;
  use.keep_alive = k;
  return use;
}

v1::RunRecording child_run(const StepContext& c, const std::string& item) {
  v1::RunRecording r = c.recording;
  if (r.enabled()) r.set_run_name(c.step.id + (item.empty() ? "" : " " + item));
  return r;
}

void run_dataset(const StepContext& c, const DatasetStep& s, v1::StepResult& r) {
  std::filesystem::path path;
  v1::DatasetRecord whole;
  Table table;
  if (s.generate) {
    const auto& g = *s.generate;
    auto data = make_classification(g);
    std::string text;
    for (uint32_t j = 0; j < g.features; ++j) text += fmt::format("f{},", j);
    text += host::csv_escape(s.label) + "\n";
    for (uint64_t row = 0; row < data.x.rows; ++row) {
      for (uint64_t j = 0; j < data.x.cols; ++j) text += format_number(data.x(row, j)) + ",";
      text += std::to_string(data.y[row]) + "\n";
    }
    path = c.out_dir / (c.step.id + ".csv");
    write_text(path, text);
    whole = record_of(c, path, s.label, c.step.id, &table);
    auto* l = whole.mutable_lineage();
    l->set_source("generator:synthetic_classification");
    l->set_generator("synthetic_classification");
    auto& p = *l->mutable_parameters();
    p["samples"] = std::to_string(g.samples);
    p["features"] = std::to_string(g.features);
    p["informative"] = std::to_string(g.informative);
    p["redundant"] = std::to_string(g.redundant);
    p["classes"] = std::to_string(g.classes);
    p["class_sep"] = format_number(g.class_sep);
    p["flip"] = format_number(g.flip);
    p["seed"] = std::to_string(g.seed);
  } else {
    path = c.env.files.resolve(s.csv);
    whole = record_of(c, path, s.label, c.step.id, &table);
  }
  std::optional<host::Split> split;
  if (s.split)
    split = host::train_test_split(table.csv.rows.size(), s.split->test_size, s.split->seed);
  if (!s.scale.empty()) {
    // The raw set stays on record as <id>.raw; <id> (and its split parts) are the scaled rows.
    whole.set_name(c.step.id + ".raw");
    *r.add_datasets() = whole;
    path = c.out_dir / (c.step.id + ".scaled.csv");
    write_text(path, scaled_text(table, s.scale, split ? &split->train : nullptr));
    const std::string raw_digest = whole.sha256();
    whole = record_of(c, path, s.label, c.step.id, &table);
    whole.mutable_lineage()->add_parent_digests(raw_digest);
    whole.mutable_lineage()->add_transformations(
        fmt::format("{}_scaler(fit on {})", s.scale,
                    split ? fmt::format("the train part of train_test_split(test_size={}, seed={})",
                                        format_number(s.split->test_size), s.split->seed)
                          : std::string("every row")));
  }
  *r.add_datasets() = whole;
  if (split) {
    for (const auto& [part, rows] :
         {std::pair<std::string, const std::vector<size_t>*>{"train", &split->train},
          {"test", &split->test}}) {
      auto part_path = c.out_dir / (c.step.id + "." + part + ".csv");
      write_text(part_path, rows_text(table.csv, *rows));
      auto rec = record_of(c, part_path, s.label, c.step.id + "." + part);
      rec.mutable_lineage()->add_parent_digests(whole.sha256());
      rec.mutable_lineage()->add_transformations(
          fmt::format("train_test_split(test_size={}, seed={}): {}",
                      format_number(s.split->test_size), s.split->seed, part));
      *r.add_datasets() = rec;
    }
  }
  r.add_outputs(path.string());
}

void run_train(const StepContext& c, const TrainStep& s, v1::StepResult& r) {
  const auto& data = dataset(c, s.data);
  std::filesystem::create_directories(c.out_dir / "models");
  std::string failed;
  for (const auto& m : s.models) {
    c.env.throw_if_cancelled("pipeline");
    v1::TrainRequest req;
    req.set_plugin(m.plugin);
    req.set_name(m.name);
    *req.mutable_csv() = csv_of(data, true);
    for (const auto& [k, v] : m.params) {
      auto* kv = req.add_params();
      kv->set_key(k);
      kv->set_value(v);
    }
    for (const auto& [k, v] : m.config) {
      auto* kv = req.add_config();
      kv->set_key(k);
      kv->set_value(v);
    }
    req.set_test_size(s.test_size);
    req.set_seed(s.seed);
    // A file for plugins that export ONNX; every model stays in memory for the later steps.
    if (auto p = c.env.registry.find(SECMLOPS_KIND_MODEL, m.plugin);
        p && (p->capability_bits() & SECMLOPS_CAP_ONNX_EXPORT))
      req.set_out((c.out_dir / "models" / (m.name + ".onnx")).string());
    *req.mutable_mlflow() = child_run(c, m.name);
    try {
      TrainedModel kept;
      auto result = train(c.env, req, &kept);
      const std::string id = c.step.id + "/" + m.name;
      c.models->add(id, std::move(kept), m.name);
      result.mutable_model()->set_name(m.name);
      result.mutable_model()->set_id(id);
      r.add_outputs(result.out());
      *r.add_models() = std::move(result);
    } catch (const AppError& e) {
      if (e.code() == AppError::Code::cancelled || e.code() == AppError::Code::deadline_exceeded)
        throw;
      failed += (failed.empty() ? "" : "; ") + m.name + ": " + e.what();
    } catch (const std::exception& e) {
      failed += (failed.empty() ? "" : "; ") + m.name + ": " + e.what();
    }
  }
  if (!failed.empty()) fail(AppError::Code::failed_precondition, "training failed for " + failed);
}

void run_scan(const StepContext& c, const ScanStep& s, v1::StepResult& r) {
  v1::ScanRequest req;
  for (const auto* m : models(c, s.models))
    if (!m->out().empty()) req.add_paths(m->out());
  for (const auto& p : s.paths) {
    if (p == "@samples") {
      for (const auto& f : write_samples(c.out_dir / "samples")) req.add_paths(f.string());
      continue;
    }
    req.add_paths(c.env.files.resolve(p).string());
  }
  auto* o = req.mutable_options();
  o->set_fail_on(s.fail_on);
  o->set_seconds_per_file(s.timeout);
  auto add = [&](const std::string& k, const std::string& v) {
    auto* kv = o->add_scanner_config();
    kv->set_key(k);
    kv->set_value(v);
  };
  add("mode", s.allowlist ? "allowlist" : "default");
  for (const auto& [k, v] : s.options) add(k, v);
  *req.mutable_shard() = s.shard;
  *req.mutable_mlflow() = child_run(c, "");
  *r.mutable_scan() = scan(c.env, req);
}

void run_attack(const StepContext& c, const AttackStep& s, v1::StepResult& r) {
  auto data = dataset(c, s.data);
  if (s.rows > 0 && s.rows < data.rows()) {
    // The first `rows` rows, as their own file, so every attack sees the same samples.
    auto full = record_of(c, data.path(), data.label_column(), data.name());
    v1::CsvData csv = csv_of(data, false);
    Table t = load_csv(c.env, csv, LabelRule::none_unless_named);
    std::vector<size_t> rows(s.rows);
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    auto path = c.out_dir / (c.step.id + ".rows.csv");
    write_text(path, rows_text(t.csv, rows));
    auto sub =
        record_of(c, path, data.label_column(), data.name() + "[:" + std::to_string(s.rows) + "]");
    sub.mutable_lineage()->add_parent_digests(full.sha256());
    sub.mutable_lineage()->add_transformations("head(" + std::to_string(s.rows) + ")");
    data = sub;
    *r.add_datasets() = sub;
  }
  std::string failed;
  for (const auto* m : models(c, s.models)) {
    const bool grad = m->model().has_gradient();
    for (const auto& a : s.attacks) {
      // auto: gradient attacks on models with gradients, black-box ones on the others.
      const bool applies = a.on == "all" || (a.on == "gradient" && grad) ||
                           (a.on == "no_gradient" && !grad) ||
                           (a.on == "auto" && a.needs_gradient == grad);
      if (!applies || (a.needs_gradient && !grad)) continue;
      c.env.throw_if_cancelled("pipeline");
      v1::AttackRequest req;
      req.set_attack(a.attack);
      req.set_model_id(m->model().id());
      req.set_model_name(m->model().name());
      *req.mutable_csv() = csv_of(data, true);
      if (!s.labels) req.set_labels_from("predicted");
      for (double e : a.eps.empty() ? s.eps : a.eps) req.add_eps(e);
      for (const auto& [k, v] : a.params) {
        auto* kv = req.add_params();
        kv->set_key(k);
        kv->set_value(v);
      }
      req.set_empirical_robustness(s.empirical_robustness && grad);
      *req.mutable_mlflow() = child_run(c, a.attack + " " + m->model().name());
      try {
        *r.add_attacks() = attack(c.env, req).report();
      } catch (const AppError& e) {
        if (e.code() == AppError::Code::cancelled || e.code() == AppError::Code::deadline_exceeded)
          throw;
        failed +=
            (failed.empty() ? "" : "; ") + a.attack + " on " + m->model().name() + ": " + e.what();
      } catch (const std::exception& e) {
        failed +=
            (failed.empty() ? "" : "; ") + a.attack + " on " + m->model().name() + ": " + e.what();
      }
    }
  }
  if (!failed.empty()) fail(AppError::Code::failed_precondition, "attacks failed: " + failed);
}

}  // namespace secmlops::app::pipeline
