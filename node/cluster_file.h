// The cluster file: the static membership of a cluster, written by
// `ringkv-cluster` and read by every node at start (TOML; see
// docs/cluster-file.md). Dynamic membership will replace it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "replication/bucket.h"

namespace ringkv {

struct ClusterMember {
  std::string id;       // "n1", "n2", ...
  std::string address;  // "127.0.0.1:7101"
  bool operator==(const ClusterMember&) const = default;
};

struct ClusterFile {
  uint32_t partitions = 64;
  uint32_t n = 3;
  std::vector<ClusterMember> members;
  BucketTable buckets;  // defaults() has n from above, r = w = n/2+1
};

Result<ClusterFile> ReadClusterFile(const std::string& path);
// The same from the file's text; `path` only names it in errors.
Result<ClusterFile> ParseClusterFile(std::string_view text, const std::string& path);
// The text WriteClusterFile writes.
std::string FormatClusterFile(const ClusterFile& file);
Status WriteClusterFile(const std::string& path, const ClusterFile& file);

}  // namespace ringkv
