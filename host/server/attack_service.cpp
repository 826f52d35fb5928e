#include "call_util.hpp"
#include "services.hpp"

#include "secmlops/host/robustness.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

namespace secmlops::server {
namespace {

std::vector<int32_t> argmax_rows(const host::DenseMatrix& proba) {
  std::vector<int32_t> out(proba.rows);
  for (uint64_t r = 0; r < proba.rows; ++r) {
    const double* row = proba.data.data() + r * proba.cols;
    out[r] = static_cast<int32_t>(std::max_element(row, row + proba.cols) - row);
  }
  return out;
}

host::DenseMatrix rows_of(const host::DenseMatrix& x, uint64_t begin, uint64_t end) {
  return host::DenseMatrix(
      end - begin, x.cols,
      std::vector<double>(x.data.begin() + static_cast<ptrdiff_t>(begin * x.cols),
                          x.data.begin() + static_cast<ptrdiff_t>(end * x.cols)));
}

void add_metric(v1::AttackResult& r, const std::string& key, double value) {
  auto* m = r.add_metrics();
  m->set_key(key);
  m->set_value(value);
}

}  // namespace

grpc::ServerWriteReactor<v1::AttackEvent>* AttackServiceImpl::Run(
    grpc::CallbackServerContext* context, const v1::AttackRequest* req) {
  return run_streaming<v1::AttackEvent>(
      state_, context, [this, req](StreamingWriter<v1::AttackEvent>& out) {
        auto attack = find_plugin(state_.registry, SECMLOPS_KIND_ATTACK, req->attack());
        auto model = find_model(state_.models, req->model_id());
        auto x = to_dense(req->features(), state_.config.max_matrix_values, "features");
        if (x.cols != model->summary.n_features())
          fail(grpc::StatusCode::INVALID_ARGUMENT,
               "features have " + std::to_string(x.cols) + " columns, model " +
                   model->summary.id() + " expects " + std::to_string(model->summary.n_features()));
        if (req->labels_size() != 0 && static_cast<uint64_t>(req->labels_size()) != x.rows)
          fail(grpc::StatusCode::INVALID_ARGUMENT, "got " + std::to_string(req->labels_size()) +
                                                       " labels for " + std::to_string(x.rows) +
                                                       " rows: one per row, or none");
        for (int i = 0; i < req->labels_size(); ++i)
          if (req->labels(i) < 0 ||
              static_cast<uint32_t>(req->labels(i)) >= model->summary.n_classes())
            fail(grpc::StatusCode::INVALID_ARGUMENT,
                 "label " + std::to_string(req->labels(i)) + " of row " + std::to_string(i) +
                     " is outside 0.." + std::to_string(model->summary.n_classes() - 1));
        if ((attack.descriptor().capabilities & SECMLOPS_CAP_NEEDS_GRADIENT) &&
            !model->summary.has_gradient())
          fail(grpc::StatusCode::FAILED_PRECONDITION,
               "attack " + attack.name() + " needs loss gradients, which model " +
                   model->summary.id() + " (" + model->summary.plugin() +
                   ") does not provide: use a black-box attack");
        const auto params = to_kv(req->params());
        const uint64_t batch = req->batch_size() != 0
                                   ? req->batch_size()
                                   : std::max<uint32_t>(1, state_.config.attack_batch_rows);

        std::lock_guard lock(model->mu);
        auto& session = *model->session;
        const auto& token = out.token();
        const auto clean = argmax_rows(session.predict_proba(x));
        std::vector<int32_t> y =
            req->labels_size() != 0
                ? std::vector<int32_t>(req->labels().begin(), req->labels().end())
                : clean;
        const std::vector<int32_t> y_true(req->labels().begin(), req->labels().end());
        const std::vector<int32_t> targets(req->targets().begin(), req->targets().end());
        if (!targets.empty() && targets.size() != x.rows)
          fail(grpc::StatusCode::INVALID_ARGUMENT, "got " + std::to_string(targets.size()) +
                                                       " targets for " + std::to_string(x.rows) + " rows");
        for (int32_t t : targets)
          if (t < 0 || static_cast<uint32_t>(t) >= model->summary.n_classes())
            fail(grpc::StatusCode::INVALID_ARGUMENT, "target " + std::to_string(t) + " is outside 0.." +
                                                         std::to_string(model->summary.n_classes() - 1));
        std::vector<std::optional<double>> eps_list(req->eps().begin(), req->eps().end());
        if (eps_list.empty()) eps_list.emplace_back(std::nullopt);
        const uint64_t runs = eps_list.size();

        host::DenseMatrix x_adv(x.rows, x.cols);
        v1::AttackResult result;
        auto& report = *result.mutable_report();
        report.set_attack(attack.name());
        report.set_model(session.plugin().name());
        report.set_samples(x.rows);
        report.set_targeted(!targets.empty());
        for (const auto& [k, v] : params) (*report.mutable_params())[k] = v;
        report.set_labels_source(y_true.empty() ? "model predictions" : "given");
        report.set_clean_accuracy(host::accuracy(clean, y));
        uint64_t queries = 0;
        for (uint64_t run = 0; run < runs; ++run) {
          auto run_params = params;
          if (eps_list[run]) run_params.emplace_back("eps", std::to_string(*eps_list[run]));
          if (!targets.empty()) run_params.emplace_back("targeted", "true");
          const auto& attack_labels = targets.empty() ? y : targets;
          uint64_t run_queries = 0;
          for (uint64_t begin = 0; begin < x.rows; begin += batch) {
            if (token->cancelled())
              fail(token->deadline_passed() ? grpc::StatusCode::DEADLINE_EXCEEDED
                                            : grpc::StatusCode::CANCELLED,
                   "attack stopped after " + std::to_string(begin) + " of " + std::to_string(x.rows) +
                       " rows");
            const uint64_t end = std::min(x.rows, begin + batch);
            std::vector<int32_t> yb(attack_labels.begin() + static_cast<ptrdiff_t>(begin),
                                    attack_labels.begin() + static_cast<ptrdiff_t>(end));
            auto o = host::run_attack(attack, session, rows_of(x, begin, end), yb, run_params, token);
            std::copy(o.x_adv.data.begin(), o.x_adv.data.end(),
                      x_adv.data.begin() + static_cast<ptrdiff_t>(begin * x.cols));
            run_queries += o.queries;
            for (const auto& [key, v] : o.emitted.properties)
              if (key == "attack.method") report.set_method(v);
            for (const auto& [key, v] : o.emitted.metrics) {
              auto* m = result.add_attack_metrics();
              m->set_key(key);
              m->set_value(v.first);
              m->set_step(static_cast<int64_t>(run * ((x.rows + batch - 1) / batch) + begin / batch));
            }
            v1::AttackEvent ev;
            auto* p = ev.mutable_progress();
            p->set_rows_done(run * x.rows + end);
            p->set_rows_total(runs * x.rows);
            p->set_fraction(static_cast<double>(run * x.rows + end) / static_cast<double>(runs * x.rows));
            out.push(std::move(ev));
          }
          auto point = host::robustness_point(session, x, x_adv, y_true, targets);
          point.set_eps(eps_list[run].value_or(0));
          point.set_model_queries(run_queries);
          *report.add_curve() = point;
          queries += run_queries;
        }
        if (req->empirical_robustness() && session.has_gradient())
          if (auto fgsm = state_.registry.find(SECMLOPS_KIND_ATTACK, "fgsm")) {
            host::KeyValues er_params;
            for (const auto& kv : params)
              if (kv.first == "norm" || kv.first == "eps_step" || kv.first == "clip_min" || kv.first == "clip_max")
                er_params.push_back(kv);
            if (eps_list.back()) er_params.emplace_back("eps", std::to_string(*eps_list.back()));
            report.set_empirical_robustness(host::empirical_robustness(*fgsm, session, x, er_params, token));
          }
        // The flat fields summarise the last eps of the curve, for clients that read only them.
        const auto& last = report.curve(report.curve_size() - 1);
        result.set_clean_accuracy(report.clean_accuracy());
        result.set_adversarial_accuracy(last.adversarial_accuracy());
        result.set_queries(queries);
        add_metric(result, "clean_accuracy", report.clean_accuracy());
        add_metric(result, "adversarial_accuracy", last.adversarial_accuracy());
        add_metric(result, "attack_success_rate", last.success_rate());
        add_metric(result, "mean_linf", last.perturbation().mean_linf());
        add_metric(result, "mean_l2", last.perturbation().mean_l2());
        add_metric(result, "queries", static_cast<double>(queries));
        const auto adv = argmax_rows(session.predict_proba(x_adv));
        if (req->return_examples()) {
          from_dense(x_adv, *result.mutable_adversarial_examples());
          result.mutable_adversarial_labels()->Assign(adv.begin(), adv.end());
        }
        v1::AttackEvent ev;
        *ev.mutable_result() = std::move(result);
        out.push(std::move(ev));
      });
}

}  // namespace secmlops::server
