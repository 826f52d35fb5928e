#include "call_util.hpp"
#include "services.hpp"

#include "secmlops/app/operations.hpp"

namespace secmlops::server {

grpc::ServerWriteReactor<v1::AttackEvent>* AttackServiceImpl::Run(
    grpc::CallbackServerContext* context, const v1::AttackRequest* req) {
  return run_streaming<v1::AttackEvent>(
      state_, context, [this, req](StreamingWriter<v1::AttackEvent>& out) {
        // Progress is one event per eps of the curve, as the application layer reports it.
        auto env = call_env(state_, out.token(), [&out](const v1::ProgressEvent& e) {
          if (e.total() == 0) return;
          v1::AttackEvent ev;
          auto* p = ev.mutable_progress();
          p->set_rows_done(e.done());
          p->set_rows_total(e.total());
          p->set_fraction(static_cast<double>(e.done()) / static_cast<double>(e.total()));
          out.push(std::move(ev));
        });
        v1::AttackEvent ev;
        *ev.mutable_result() = app::attack(env, *req);
        out.push(std::move(ev));
      });
}

}  // namespace secmlops::server
