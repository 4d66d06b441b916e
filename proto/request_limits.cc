#include "proto/request_limits.h"

#include <string>

#include "causality/object_limits.h"

namespace ringkv {
namespace {

Status CheckKey(const std::string& bucket, const std::string& key) {
  if (bucket.empty() || bucket.size() > kMaxBucketBytes) {
    return Status::InvalidArgument("bucket must be 1.." + std::to_string(kMaxBucketBytes) +
                                   " bytes");
  }
  if (key.empty() || key.size() > kMaxKeyBytes) {
    return Status::InvalidArgument("key must be 1.." + std::to_string(kMaxKeyBytes) + " bytes");
  }
  return Status::OK();
}

// `what` ("value") of `size` bytes, at most `limit`.
Status CheckSize(const char* what, size_t size, size_t limit) {
  if (size <= limit) return Status::OK();
  return Status::InvalidArgument(std::string(what) + " of " + std::to_string(size) +
                                 " bytes exceeds the limit of " + std::to_string(limit));
}

Status CheckPut(const PutRequest& put) {
  RINGKV_RETURN_IF_ERROR(CheckKey(put.bucket, put.key));
  RINGKV_RETURN_IF_ERROR(CheckSize("value", put.value.size(), kMaxValueBytes));
  return CheckSize("context", put.context.size(), kMaxContextBytes);
}

Status CheckReplicaPut(const ReplicaPutRequest& put) {
  RINGKV_RETURN_IF_ERROR(CheckKey(put.bucket, put.key));
  RINGKV_RETURN_IF_ERROR(CheckSize("hint target", put.hint_for.size(), kMaxNodeIdBytes));
  return CheckObjectLimits(put.object);
}

// Objects per transfer batch: a sender sends far fewer (its batches are
// bounded in bytes); more is a broken or hostile peer.
constexpr size_t kMaxTransferEntries = 10'000;

Status CheckTransferBatch(const TransferBatch& batch) {
  if (batch.entries.size() > kMaxTransferEntries) {
    return Status::InvalidArgument("transfer batch of " + std::to_string(batch.entries.size()) +
                                   " objects exceeds the limit of " +
                                   std::to_string(kMaxTransferEntries));
  }
  for (const TransferEntry& e : batch.entries) {
    RINGKV_RETURN_IF_ERROR(CheckKey(e.bucket, e.key));
    RINGKV_RETURN_IF_ERROR(CheckObjectLimits(e.object));
  }
  return Status::OK();
}

Status CheckRingAdmin(const RingAdminRequest& r) {
  RINGKV_RETURN_IF_ERROR(CheckSize("op", r.op.size(), 32));
  RINGKV_RETURN_IF_ERROR(CheckSize("node id", r.node.size(), kMaxNodeIdBytes));
  RINGKV_RETURN_IF_ERROR(CheckSize("address", r.address.size(), 255));
  RINGKV_RETURN_IF_ERROR(CheckSize("plan id", r.plan_id.size(), 64));
  RINGKV_RETURN_IF_ERROR(CheckSize("node id", r.from.size(), kMaxNodeIdBytes));
  RINGKV_RETURN_IF_ERROR(CheckSize("node id", r.replacement.size(), kMaxNodeIdBytes));
  RINGKV_RETURN_IF_ERROR(CheckSize("bucket", r.bucket.size(), kMaxBucketBytes));
  return CheckSize("settings", r.settings.size(), 256);
}

}  // namespace

Status ValidateRequest(const MessageBody& request) {
  if (const auto* get = std::get_if<GetRequest>(&request)) return CheckKey(get->bucket, get->key);
  if (const auto* put = std::get_if<PutRequest>(&request)) return CheckPut(*put);
  if (const auto* get = std::get_if<ReplicaGetRequest>(&request)) {
    return CheckKey(get->bucket, get->key);
  }
  if (const auto* put = std::get_if<ReplicaPutRequest>(&request)) return CheckReplicaPut(*put);
  if (const auto* batch = std::get_if<TransferBatch>(&request)) return CheckTransferBatch(*batch);
  if (const auto* admin = std::get_if<RingAdminRequest>(&request)) return CheckRingAdmin(*admin);
  if (const auto* sizes = std::get_if<PartitionSizesRequest>(&request)) {
    return CheckSize("partition list", sizes->partitions.size(), 1u << 20);
  }
  return Status::OK();
}

MessageBody Refusal(const MessageBody& request, Status status) {
  auto with = [&status](auto reply) -> MessageBody {
    reply.status = std::move(status);
    return reply;
  };
  if (std::holds_alternative<GetRequest>(request)) return with(GetReply{});
  if (std::holds_alternative<PutRequest>(request)) return with(PutReply{});
  if (std::holds_alternative<ReplicaGetRequest>(request)) return with(ReplicaGetReply{});
  if (std::holds_alternative<ReplicaPutRequest>(request)) return with(ReplicaPutReply{});
  if (std::holds_alternative<RingAdminRequest>(request)) return with(RingAdminReply{});
  if (std::holds_alternative<TransferBatch>(request)) return with(TransferBatchReply{});
  if (std::holds_alternative<PartitionSizesRequest>(request)) return with(PartitionSizesReply{});
  return with(ErrorReply{});
}

}  // namespace ringkv
