#include "tools/local_ring_change.h"

#include <memory>
#include <utility>

#include "client/node_connection.h"
#include "common/tls.h"

namespace ringkv {

Result<RingAdminReply> AskRing(const std::string& address, RingAdminRequest request,
                               std::chrono::milliseconds timeout, const ClientOptions::Tls& tls,
                               const std::string& auth_token) {
  std::shared_ptr<TlsContext> context;
  if (!tls.ca.empty()) {
    Result<std::shared_ptr<TlsContext>> ctx =
        TlsContext::ForClient(TlsFiles{tls.ca, tls.cert, tls.key});
    if (!ctx.ok()) return Status::InvalidArgument("TLS: " + ctx.status().message());
    context = *ctx;
  }
  NodeConnection conn(address, context.get());
  Message message;
  message.request_id = 1;
  message.auth_token = auth_token;
  message.timeout_ms = static_cast<uint32_t>(timeout.count());
  message.body = std::move(request);
  Result<Message> reply = conn.Call(message, std::chrono::steady_clock::now() + timeout);
  if (!reply.ok()) return reply.status();
  if (auto* error = std::get_if<ErrorReply>(&reply->body)) return error->status;
  auto* answer = std::get_if<RingAdminReply>(&reply->body);
  if (answer == nullptr) return Status::Corruption("unexpected reply to a ring request");
  if (!answer->status.ok()) return answer->status;
  return std::move(*answer);
}

Result<RingState> RingStateOf(const std::string& address, std::chrono::milliseconds timeout,
                              const ClientOptions::Tls& tls) {
  Result<RingAdminReply> reply =
      AskRing(address, RingAdminRequest{"ring", {}, {}, {}, 0, {}, {}, {}}, timeout, tls);
  if (!reply.ok()) return reply.status();
  return DecodeRingState(reply->state);
}

Result<PlanView> PlanAndCommit(const std::string& address, std::chrono::milliseconds timeout,
                               const ClientOptions::Tls& tls) {
  Result<RingAdminReply> planned =
      AskRing(address, RingAdminRequest{"plan", {}, {}, {}, 0, {}, {}, {}}, timeout, tls);
  if (!planned.ok()) return planned.status();
  Result<PlanView> plan = DecodePlan(planned->plan);
  if (!plan.ok()) return plan.status();
  Result<RingAdminReply> committed =
      AskRing(address, RingAdminRequest{"commit", {}, {}, plan->id, 0, {}, {}, {}}, timeout,
              tls);
  if (!committed.ok()) return committed.status();
  return plan;
}

}  // namespace ringkv
