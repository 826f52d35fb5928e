#include "call_util.hpp"
#include "services.hpp"

#include "secmlops/host/attack_runner.hpp"

#include <algorithm>
#include <cmath>

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
        host::DenseMatrix x_adv(x.rows, x.cols);
        v1::AttackResult result;
        uint64_t queries = 0;
        for (uint64_t begin = 0; begin < x.rows; begin += batch) {
          if (token->cancelled())
            fail(token->deadline_passed() ? grpc::StatusCode::DEADLINE_EXCEEDED
                                          : grpc::StatusCode::CANCELLED,
                 "attack stopped after " + std::to_string(begin) + " of " + std::to_string(x.rows) +
                     " rows");
          const uint64_t end = std::min(x.rows, begin + batch);
          std::vector<int32_t> yb(y.begin() + static_cast<ptrdiff_t>(begin),
                                  y.begin() + static_cast<ptrdiff_t>(end));
          auto o = host::run_attack(attack, session, rows_of(x, begin, end), yb, params, token);
          std::copy(o.x_adv.data.begin(), o.x_adv.data.end(),
                    x_adv.data.begin() + static_cast<ptrdiff_t>(begin * x.cols));
          queries += o.queries;
          for (const auto& [key, v] : o.emitted.metrics) {
            auto* m = result.add_attack_metrics();
            m->set_key(key);
            m->set_value(v.first);
            m->set_step(static_cast<int64_t>(begin / batch));
          }
          v1::AttackEvent ev;
          auto* p = ev.mutable_progress();
          p->set_rows_done(end);
          p->set_rows_total(x.rows);
          p->set_fraction(static_cast<double>(end) / static_cast<double>(x.rows));
          out.push(std::move(ev));
        }
        const auto adv = argmax_rows(session.predict_proba(x_adv));
        uint64_t clean_ok = 0, adv_ok = 0, flipped = 0;
        double linf_sum = 0, l2_sum = 0;
        for (uint64_t r = 0; r < x.rows; ++r) {
          clean_ok += clean[r] == y[r];
          adv_ok += adv[r] == y[r];
          flipped += clean[r] == y[r] && adv[r] != y[r];
          double linf = 0, l2 = 0;
          for (uint64_t c = 0; c < x.cols; ++c) {
            double d = x_adv(r, c) - x(r, c);
            linf = std::max(linf, std::abs(d));
            l2 += d * d;
          }
          linf_sum += linf;
          l2_sum += std::sqrt(l2);
        }
        const double n = static_cast<double>(x.rows);
        result.set_clean_accuracy(static_cast<double>(clean_ok) / n);
        result.set_adversarial_accuracy(static_cast<double>(adv_ok) / n);
        result.set_queries(queries);
        add_metric(result, "clean_accuracy", result.clean_accuracy());
        add_metric(result, "adversarial_accuracy", result.adversarial_accuracy());
        add_metric(result, "attack_success_rate",
                   clean_ok ? static_cast<double>(flipped) / static_cast<double>(clean_ok) : 0.0);
        add_metric(result, "mean_linf", linf_sum / n);
        add_metric(result, "mean_l2", l2_sum / n);
        add_metric(result, "queries", static_cast<double>(queries));
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
