// Client-side resolution: Client::GetResolved and Client::Update
// (client/client.h). Built on Get and Put only, so it works against any
// bucket; in a bucket with a merge plugin the node has usually merged
// already and the resolver is not called.
#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "client/client.h"

namespace ringkv {
namespace {

// The pause before attempt `attempt` (1-based) of a conditional write that
// found its key changed: a ceiling doubling from 1 ms up to 64 ms, each
// pause a uniform draw between half the ceiling and the ceiling, so that
// updaters that collided once spread out.
std::chrono::microseconds Backoff(uint32_t attempt) {
  thread_local std::minstd_rand random{std::random_device{}()};
  const uint32_t ceiling_us = 1000u << std::min<uint32_t>(attempt - 1, 6);
  return std::chrono::microseconds(
      std::uniform_int_distribution<uint32_t>(ceiling_us / 2, ceiling_us)(random));
}

}  // namespace

Result<GetResult> Client::GetResolved(std::string_view bucket, std::string_view key,
                                      const SiblingResolver& resolve, const ReadOptions& read,
                                      const WriteOptions& write) {
  Result<GetResult> got = Get(bucket, key, read);
  if (!got.ok() || got->values.size() <= 1) return got;
  const std::string value = resolve(got->values);
  WriteOptions with_context = write;
  with_context.context = got->context;
  Result<PutResult> put = Put(bucket, key, value, with_context);
  if (!put.ok()) return put.status();
  return GetResult{true, {value}, put->context};
}

Result<PutResult> Client::Update(std::string_view bucket, std::string_view key,
                                 const UpdateFn& fn, const SiblingResolver& resolve,
                                 const UpdateOptions& options) {
  WriteOptions write = options.write;
  write.if_match = true;
  Result<PutResult> put = Status::Internal("no attempt");
  for (uint32_t attempt = 0;; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(Backoff(attempt));
    Result<GetResult> got = Get(bucket, key, options.read);
    if (!got.ok() && !got.status().IsNotFound()) return got.status();
    std::vector<std::string> current;
    write.context.clear();
    if (got.ok()) {
      current = got->values;
      write.context = got->context;
    }
    put = Put(bucket, key, fn(current), write);
    if (put.ok() || !put.status().IsPreconditionFailed()) break;
    if (attempt + 1 >= options.max_attempts) {
      return Status::Busy("update of " + std::string(bucket) + "/" + std::string(key) +
                          " found it changed by concurrent writes " +
                          std::to_string(options.max_attempts) + " times; nothing was written");
    }
  }
  // A conditional write still lands beside a concurrent one while the key's
  // owner fails over (client.h WriteOptions::if_match): settle it by
  // resolving, as a node without conditional puts would need too.
  write.if_match = false;
  for (uint32_t round = 0; put.ok() && put->values > 1; ++round) {
    if (round == options.max_attempts) {
      return Status::Busy("update of " + std::string(bucket) + "/" + std::string(key) +
                          " kept meeting concurrent writes; its value is stored as a sibling");
    }
    Result<GetResult> again = Get(bucket, key, options.read);
    if (!again.ok()) return again.status();
    if (again->values.size() <= 1) return PutResult{again->context, 1};
    write.context = again->context;
    put = Put(bucket, key, resolve(again->values), write);
  }
  return put;
}

}  // namespace ringkv
