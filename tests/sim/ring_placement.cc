#include "tests/sim/ring_placement.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "causality/object_codec.h"
#include "storage/record.h"

namespace ringkv::sim {
namespace {

std::string Names(SimCluster& cluster, const std::vector<int>& nodes) {
  std::string out;
  for (int i : nodes) out += (out.empty() ? "" : ",") + cluster.id(i);
  return "[" + out + "]";
}

}  // namespace

CheckResult CheckRingPlacement(SimCluster& cluster) {
  CheckResult r;
  r.name = "ring-placement";
  // (bucket, key) -> node -> canonical encoding.
  std::map<std::pair<std::string, std::string>, std::map<int, std::string>> held;
  for (int i = 0; i < cluster.size(); ++i) {
    Result<std::vector<StoredObject>> objects = cluster.StoredObjects(i);
    if (!objects.ok()) {
      r.Fail(cluster.id(i) + ": engine unreadable: " + objects.status().ToString());
      continue;
    }
    for (StoredObject& o : *objects) {
      Result<std::string_view> body = DecodeRecord(o.record);
      Result<Object> object = body.ok() ? DecodeObject(*body) : Result<Object>(body.status());
      if (!object.ok()) {
        r.Fail(o.bucket + "/" + o.key + " on " + cluster.id(i) +
               " is unreadable: " + object.status().ToString());
        continue;
      }
      held[{o.bucket, o.key}][i] = EncodeObject(*object);
    }
  }
  for (const auto& [name, copies] : held) {
    ++r.checked;
    const auto& [bucket, key] = name;
    const std::vector<int> primaries = cluster.Primaries(bucket, key);
    const std::string what = bucket + "/" + key + " (final preference list " +
                             Names(cluster, primaries) + ")";
    for (const auto& [node, bytes] : copies) {
      if (std::find(primaries.begin(), primaries.end(), node) == primaries.end()) {
        r.Fail(what + " is held by " + cluster.id(node) +
               (cluster.present(node) ? "" : ", which left"));
      }
    }
    const std::string* first = nullptr;
    int first_node = -1;
    for (int p : primaries) {
      auto it = copies.find(p);
      if (it == copies.end()) {
        r.Fail(what + " is missing on " + cluster.id(p));
        continue;
      }
      if (first == nullptr) {
        first = &it->second;
        first_node = p;
      } else if (*first != it->second) {
        r.Fail(what + " is not byte-identical on " + cluster.id(first_node) + " (" +
               std::to_string(first->size()) + " bytes) and " + cluster.id(p) + " (" +
               std::to_string(it->second.size()) + " bytes)");
      }
    }
  }
  return r;
}

size_t MisplacedObjects(SimCluster& cluster) {
  size_t misplaced = 0;
  for (int i = 0; i < cluster.size(); ++i) {
    Result<std::vector<StoredObject>> objects = cluster.StoredObjects(i);
    if (!objects.ok()) continue;
    for (const StoredObject& o : *objects) {
      const std::vector<int> primaries = cluster.Primaries(o.bucket, o.key);
      misplaced += std::find(primaries.begin(), primaries.end(), i) == primaries.end() ? 1 : 0;
    }
  }
  return misplaced;
}

}  // namespace ringkv::sim
