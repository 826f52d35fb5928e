#include "call_util.hpp"

#include "secmlops/app/environment.hpp"
#include "secmlops/host/csv.hpp"

#include <map>

namespace secmlops::server {

grpc::StatusCode status_code(secmlops_status status) {
  switch (status) {
    case SECMLOPS_ERR_INVALID_ARGUMENT:
    case SECMLOPS_ERR_PARSE:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case SECMLOPS_ERR_UNSUPPORTED:
    case SECMLOPS_ERR_STATE:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case SECMLOPS_ERR_CANCELLED:
      return grpc::StatusCode::CANCELLED;
    case SECMLOPS_ERR_LIMIT:
    case SECMLOPS_ERR_NO_MEMORY:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    default:
      return grpc::StatusCode::INTERNAL;
  }
}

grpc::Status guarded(const std::function<void()>& work) {
  try {
    work();
    return grpc::Status::OK;
  } catch (const CallError& e) {
    spdlog::debug("request refused (code {}): {}", static_cast<int>(e.code), e.message);
    return {e.code, e.message};
  } catch (const app::AppError& e) {
    spdlog::debug("request refused: {}", e.what());
    using C = app::AppError::Code;
    static const std::map<C, grpc::StatusCode> codes = {
        {C::invalid_argument, grpc::StatusCode::INVALID_ARGUMENT},
        {C::not_found, grpc::StatusCode::NOT_FOUND},
        {C::permission_denied, grpc::StatusCode::PERMISSION_DENIED},
        {C::failed_precondition, grpc::StatusCode::FAILED_PRECONDITION},
        {C::resource_exhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
        {C::cancelled, grpc::StatusCode::CANCELLED},
        {C::deadline_exceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
        {C::internal, grpc::StatusCode::INTERNAL}};
    return {codes.at(e.code()), e.what()};
  } catch (const host::PluginError& e) {
    spdlog::debug("plugin refused the request ({}): {}", host::status_name(e.status()), e.what());
    return {status_code(e.status()), e.what()};
  } catch (const std::bad_alloc&) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED, "out of memory while handling the request"};
  } catch (const host::DataError& e) {  // malformed request data (e.g. training CSV)
    return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
  } catch (const std::length_error& e) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED, e.what()};
  } catch (const std::invalid_argument& e) {
    return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
  } catch (const std::exception& e) {
    spdlog::error("request failed: {}", e.what());
    return {grpc::StatusCode::INTERNAL, e.what()};
  }
}

host::DenseMatrix to_dense(const v1::Matrix& m, uint64_t max_values, const char* what) {
  if (m.rows() == 0 || m.cols() == 0)
    fail(grpc::StatusCode::INVALID_ARGUMENT,
         std::string(what) + " is empty: set rows, cols and values");
  if (m.cols() > max_values || m.rows() > max_values / m.cols())
    fail(grpc::StatusCode::RESOURCE_EXHAUSTED,
         std::string(what) + " has " + std::to_string(m.rows()) + "x" + std::to_string(m.cols()) +
             " values, above the server's limit of " + std::to_string(max_values));
  if (static_cast<uint64_t>(m.values_size()) != m.rows() * m.cols())
    fail(grpc::StatusCode::INVALID_ARGUMENT,
         std::string(what) + " has " + std::to_string(m.values_size()) + " values but shape " +
             std::to_string(m.rows()) + "x" + std::to_string(m.cols()) + " needs " +
             std::to_string(m.rows() * m.cols()));
  host::DenseMatrix d(m.rows(), m.cols(),
                      std::vector<double>(m.values().begin(), m.values().end()));
  try {
    host::require_finite(d, what);
  } catch (const std::invalid_argument& e) {
    fail(grpc::StatusCode::INVALID_ARGUMENT, e.what());
  }
  return d;
}

void from_dense(const host::DenseMatrix& d, v1::Matrix& out) {
  out.set_rows(d.rows);
  out.set_cols(d.cols);
  out.mutable_values()->Assign(d.data.begin(), d.data.end());
}

std::shared_ptr<host::CancelToken> token_for(const grpc::CallbackServerContext* context) {
  auto token = std::make_shared<host::CancelToken>();
  auto deadline = context->deadline();
  auto now = std::chrono::system_clock::now();
  if (deadline < now + std::chrono::hours(24 * 365))
    token->set_deadline(
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline - now));
  return token;
}

grpc::ServerUnaryReactor* run_unary(ServerState& state, grpc::CallbackServerContext* context,
                                    std::function<void()> work, bool on_pool) {
  auto* reactor = context->DefaultReactor();
  if (auto s = state.auth.check(context); !s.ok()) {
    reactor->Finish(s);
    return reactor;
  }
  auto caller = state.auth.identity(context);
  if (!on_pool) {
    CallerScope scope(caller);
    reactor->Finish(guarded(work));
    return reactor;
  }
  if (!state.pool.try_submit([reactor, work = std::move(work), caller] {
        CallerScope scope(caller);
        reactor->Finish(guarded(work));
      }))
    reactor->Finish(
        {grpc::StatusCode::RESOURCE_EXHAUSTED, "server busy: the work queue is full, retry later"});
  return reactor;
}

}  // namespace secmlops::server
