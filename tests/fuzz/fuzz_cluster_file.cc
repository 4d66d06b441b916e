// The cluster file (node/cluster_file.h) every node reads at start.
#include <string>
#include <string_view>

#include "node/cluster_file.h"
#include "tests/fuzz/targets.h"

namespace ringkv::fuzz {

int FuzzClusterFile(const uint8_t* data, size_t size) {
  Result<ClusterFile> file =
      ParseClusterFile(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  if (!file.ok()) return 0;
  // What was accepted is what ringkv-cluster would write for it.
  Result<ClusterFile> again = ParseClusterFile(FormatClusterFile(*file), "again.toml");
  RINGKV_FUZZ_CHECK(again.ok());
  RINGKV_FUZZ_CHECK(again->partitions == file->partitions && again->n == file->n);
  RINGKV_FUZZ_CHECK(again->members == file->members);
  RINGKV_FUZZ_CHECK(again->buckets.defaults() == file->buckets.defaults());
  RINGKV_FUZZ_CHECK(again->buckets.named() == file->buckets.named());
  return 0;
}

}  // namespace ringkv::fuzz
