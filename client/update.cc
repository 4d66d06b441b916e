// Client-side resolution: Client::GetResolved and Client::Update
// (client/client.h). Built on Get and Put only, so it works against any
// bucket; in a bucket with a merge plugin the node has usually merged
// already and the resolver is not called.
#include <string>

#include "client/client.h"

namespace ringkv {

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
  Result<GetResult> got = Get(bucket, key, options.read);
  if (!got.ok() && !got.status().IsNotFound()) return got.status();
  std::vector<std::string> current;
  WriteOptions write = options.write;
  if (got.ok()) {
    current = got->values;
    write.context = got->context;
  } else {
    write.context.clear();
  }
  Result<PutResult> put = Put(bucket, key, fn(current), write);
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
