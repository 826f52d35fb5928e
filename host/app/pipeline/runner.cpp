#include "spec.hpp"
#include "steps.hpp"

#include "secmlops/app/pipeline.hpp"
#include "secmlops/app/run_scope.hpp"
#include "secmlops/host/clock.hpp"
#include "secmlops/host/plugin_info.hpp"
#include "secmlops/host/report_html.hpp"
#include "secmlops/host/report_render.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

namespace secmlops::app {
namespace {

using namespace pipeline;

// The door's files plus the pipeline's own output directory, where steps write.
class PipelineFiles final : public FileAccess {
 public:
  PipelineFiles(const FileAccess& base, std::filesystem::path out)
      : base_(base), out_(std::move(out)) {}
  [[nodiscard]] std::filesystem::path resolve(const std::string& requested) const override {
    std::filesystem::path p(requested);
    auto rel = p.lexically_normal().lexically_relative(out_);
    if (!rel.empty() && *rel.begin() != ".." && p.is_absolute() == out_.is_absolute()) return p;
    return base_.resolve(requested);
  }
  [[nodiscard]] bool may_write() const override { return true; }

 private:
  const FileAccess& base_;
  std::filesystem::path out_;
};

void run_step(const StepContext& c, v1::StepResult& r) {
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, DatasetStep>) run_dataset(c, s, r);
        if constexpr (std::is_same_v<T, TrainStep>) run_train(c, s, r);
        if constexpr (std::is_same_v<T, ScanStep>) run_scan(c, s, r);
        if constexpr (std::is_same_v<T, AttackStep>) run_attack(c, s, r);
        if constexpr (std::is_same_v<T, SignStep>) run_sign(c, s, r);
        if constexpr (std::is_same_v<T, VerifyStep>) run_verify(c, s, r);
        if constexpr (std::is_same_v<T, ReportStep>) run_report(c, s, r);
        if constexpr (std::is_same_v<T, GateStep>) run_gate(c, s, r);
      },
      c.step.config);
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

v1::PipelineValidation validate_pipeline(const Environment& env, const v1::PipelineRequest& req) {
  std::vector<std::string> errors;
  auto spec = parse_spec(env, req, errors);
  v1::PipelineValidation v;
  v.set_valid(errors.empty());
  for (const auto& e : errors) v.add_errors(e);
  if (errors.empty())
    for (const auto& id : spec.order) v.add_order(id);
  return v;
}

int pipeline_exit_code(const v1::PipelineReport& report) {
  return report.verdict() == "pass" ? 0 : report.verdict() == "fail" ? 1 : 2;
}

v1::PipelineReport run_pipeline(const Environment& env, const v1::PipelineRequest& req,
                                const std::function<void(const v1::StepResult&)>& on_step) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> errors;
  auto spec = parse_spec(env, req, errors);
  if (!errors.empty()) fail(AppError::Code::invalid_argument, join(errors, "\n"));

  std::filesystem::path out_dir = !req.output_dir().empty() ? req.output_dir()
                                  : !spec.output.empty()    ? spec.output
                                                            : "secmlops-out/" + spec.name;
  if (!env.files.may_write() && req.output_dir().empty())
    fail(AppError::Code::invalid_argument, "this door chooses the output directory itself");
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec)
    fail(AppError::Code::failed_precondition,
         out_dir.string() + ": cannot create the output directory: " + ec.message());
  out_dir = std::filesystem::absolute(out_dir).lexically_normal();
  PipelineFiles files(env.files, out_dir);
  PipelineModels models;

  v1::PipelineReport report;
  report.set_name(spec.name);
  report.set_tool_version(SECMLOPS_VERSION);
  report.set_started_at(host::now_rfc3339());
  report.set_output_dir(out_dir.string());
  for (const auto& [k, v] : spec.settings) {
    auto* kv = report.add_settings();
    kv->set_key(k);
    kv->set_value(v);
  }

  v1::RunRecording parent_rec = req.mlflow();
  if (parent_rec.experiment().empty()) parent_rec.set_experiment(spec.experiment);
  RunScope parent(env, parent_rec, "pipeline", "pipeline " + spec.name);
  v1::RunRecording child = parent_rec;
  child.set_run_name("");
  if (parent) {
    child.set_parent_run_id(parent.run_id());
    parent->tag("secmlops.pipeline", spec.name);
    for (const auto& [k, v] : spec.settings) parent->param("pipeline.set." + k, v);
  }

  // The scheduler: a step starts once every step it needs has ended; a step whose input failed
  // is skipped; at most as many steps run at once as there are cores.
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, v1::StepResult> done;
  std::set<std::string> running;
  const size_t max_parallel = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;

  auto emit = [&](const v1::ProgressEvent& e) { env.report(e); };
  auto boundary = [&](const StepSpec& s, const char* phase, double elapsed,
                      const std::string& message) {
    v1::ProgressEvent e;
    e.set_step(s.id);
    e.set_kind(s.kind);
    e.set_phase(phase);
    e.set_elapsed_seconds(elapsed);
    e.set_message(message);
    emit(e);
  };
  auto finish_step = [&](v1::StepResult r) {
    // Called with `mu` held.
    if (on_step) on_step(r);
    done[r.id()] = std::move(r);
  };

  std::unique_lock lock(mu);
  while (done.size() < spec.steps.size()) {
    bool started = false;
    for (const auto& id : spec.order) {
      if (done.count(id) || running.count(id)) continue;
      const auto& step = *std::find_if(spec.steps.begin(), spec.steps.end(),
                                       [&](const StepSpec& s) { return s.id == id; });
      bool ready = true;
      std::string failed_input;
      for (const auto& n : step.needs) {
        auto it = done.find(n);
        if (it == done.end()) {
          ready = false;
          break;
        }
        if (it->second.status() != v1::STEP_OK && failed_input.empty()) failed_input = n;
      }
      if (!ready) continue;
      v1::StepResult r;
      r.set_id(step.id);
      r.set_kind(step.kind);
      for (const auto& n : step.needs) r.add_needs(n);
      if (env.cancelled()) {
        r.set_status(v1::STEP_CANCELLED);
        r.set_error("the pipeline was cancelled before this step started");
        boundary(step, "cancelled", 0, r.error());
        finish_step(std::move(r));
        started = true;
        continue;
      }
      if (!failed_input.empty()) {
        r.set_status(v1::STEP_SKIPPED);
        r.set_error("input step '" + failed_input + "' did not succeed");
        boundary(step, "skipped", 0, r.error());
        finish_step(std::move(r));
        started = true;
        continue;
      }
      if (running.size() >= max_parallel) continue;
      running.insert(step.id);
      started = true;
      std::map<std::string, v1::StepResult> inputs;
      for (const auto& n : step.needs) inputs[n] = done[n];
      threads.emplace_back([&, &step = step, inputs = std::move(inputs),
                            r = std::move(r)]() mutable {
        Environment step_env{env.registry, files};
        step_env.models = &models;
        step_env.cancel = env.cancel;
        step_env.notice = env.notice;
        step_env.runs = env.runs;
        step_env.max_matrix_values = env.max_matrix_values;
        step_env.max_seconds_per_file = env.max_seconds_per_file;
        step_env.default_seconds_per_file = env.default_seconds_per_file;
        step_env.progress = [&env, id = step.id](const v1::ProgressEvent& e) {
          v1::ProgressEvent copy = e;
          copy.set_step(id);
          env.report(copy);
        };
        StepContext ctx{
            step_env, spec, step, out_dir, child, std::move(inputs), host::now_rfc3339(), &models};
        r.set_started_at(ctx.started_at);
        boundary(step, "started", 0, "");
        const auto s0 = std::chrono::steady_clock::now();
        try {
          run_step(ctx, r);
          r.set_status(v1::STEP_OK);
        } catch (const AppError& e) {
          const bool stopped = e.code() == AppError::Code::cancelled ||
                               e.code() == AppError::Code::deadline_exceeded;
          r.set_status(stopped ? v1::STEP_CANCELLED : v1::STEP_FAILED);
          r.set_error(e.what());
        } catch (const std::exception& e) {
          r.set_status(env.cancelled() ? v1::STEP_CANCELLED : v1::STEP_FAILED);
          r.set_error(e.what());
        }
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
        r.set_duration_seconds(elapsed);
        boundary(step,
                 r.status() == v1::STEP_OK          ? "finished"
                 : r.status() == v1::STEP_CANCELLED ? "cancelled"
                                                    : "failed",
                 elapsed, r.error());
        if (r.status() == v1::STEP_FAILED)
          spdlog::warn("pipeline step {} failed: {}", step.id, r.error());
        std::lock_guard g(mu);
        running.erase(step.id);
        finish_step(std::move(r));
        cv.notify_all();
      });
    }
    if (!started && done.size() < spec.steps.size()) cv.wait(lock);
  }
  lock.unlock();
  for (auto& t : threads) t.join();

  // The report in spec order, gates and analyses gathered, the verdict.
  bool failed = false, gate_failed = false, cancelled = false;
  std::set<std::string> plugins;
  for (const auto& s : spec.steps) {
    const auto& r = done[s.id];
    *report.add_steps() = r;
    failed |= r.status() == v1::STEP_FAILED || r.status() == v1::STEP_SKIPPED;
    cancelled |= r.status() == v1::STEP_CANCELLED;
    for (const auto& g : r.gates()) {
      *report.add_gates() = g;
      gate_failed |= !g.passed();
    }
    for (const auto& a : r.analyses()) *report.add_analyses() = a;
    for (const auto& m : r.models()) plugins.insert(m.model().plugin());
    for (const auto& a : r.attacks()) plugins.insert(a.attack()), plugins.insert(a.model());
    for (const auto& sc : r.scan().scanners()) plugins.insert(sc.name());
  }
  const auto all_plugins = host::plugin_list(env.registry);
  for (const auto& info : all_plugins.plugins())
    if (plugins.count(info.name())) *report.add_plugins() = info;
  report.set_verdict(failed || cancelled ? "error" : gate_failed ? "fail" : "pass");
  report.set_duration_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  const auto report_path = out_dir / "pipeline-report.json";
  if (parent) {
    report.set_mlflow_run_id(parent.run_id());
    report.set_mlflow_experiment_id(parent->property("mlflow.experiment_id"));
    report.set_mlflow_run_url(parent->property("mlflow.run_url"));
  }
  // The dashboard shows the whole run, so it is rendered once every step has ended.
  bool html = req.return_dashboard_html();
  for (const auto& s : spec.steps)
    if (const auto* r = std::get_if<ReportStep>(&s.config))
      html |= std::find(r->formats.begin(), r->formats.end(), "html") != r->formats.end();
  std::string page;
  if (html) {
    page = host::render_html(report);
    const auto dashboard = out_dir / "dashboard.html";
    std::ofstream(dashboard, std::ios::trunc) << page;
    report.set_dashboard_file(dashboard.string());
  }
  {
    std::ofstream out(report_path, std::ios::trunc);
    out << host::to_json(report);
  }
  if (req.return_dashboard_html()) report.set_dashboard_html(page);
  if (parent) {
    parent->tag("secmlops.verdict", report.verdict());
    int passed = 0;
    for (const auto& g : report.gates()) passed += g.passed();
    parent->metric("pipeline.gates_passed", passed);
    parent->metric("pipeline.gates_failed", report.gates_size() - passed);
    parent->metric("pipeline.duration_seconds", report.duration_seconds());
    parent->artifact(report_path.string(), "reports");
    if (!report.dashboard_file().empty()) parent->artifact(report.dashboard_file(), "reports");
    for (const auto& s : report.steps())
      if (s.kind() == "report")
        for (const auto& o : s.outputs()) parent->artifact(o, "reports");
    parent.finish(cancelled ? "KILLED" : failed ? "FAILED" : "FINISHED");
  }
  return report;
}

}  // namespace secmlops::app
