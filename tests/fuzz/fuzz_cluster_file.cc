// The cluster file (node/cluster_file.h) every node reads at start.
#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "node/cluster_file.h"
#include "tests/fuzz/targets.h"

namespace ringkv::fuzz {
namespace {

// Every property a bucket table shows is one the parser knows, with the
// value it took: nothing the file does not show slipped in.
void CheckShownProps(const toml::table& table, const BucketProps& props) {
  for (const auto& [key, node] : table) {
    const std::string_view k = key.str();
    RINGKV_FUZZ_CHECK(k == "name" || k == "n" || k == "r" || k == "w" || k == "resolver" ||
                      k == "max_siblings" || k == "warn_siblings" || k == "plugin_version" ||
                      k == "plugin_hash");
    if (k == "resolver") RINGKV_FUZZ_CHECK(node.value_exact<std::string>() == props.resolver);
    if (k == "n") RINGKV_FUZZ_CHECK(node.value_exact<int64_t>() == static_cast<int64_t>(props.n));
    if (k == "max_siblings") {
      RINGKV_FUZZ_CHECK(node.value_exact<int64_t>() == static_cast<int64_t>(props.max_siblings));
    }
    if (k == "plugin_hash") RINGKV_FUZZ_CHECK(node.value_exact<std::string>() == props.plugin_hash);
  }
}

}  // namespace

int FuzzClusterFile(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<ClusterFile> file = ParseClusterFile(text, "fuzz.toml");
  if (!file.ok()) return 0;

  const toml::table root = toml::parse(text);
  if (const toml::table* defaults = root["bucket_defaults"].as_table()) {
    CheckShownProps(*defaults, file->buckets.defaults());
  }
  if (const toml::array* buckets = root["bucket"].as_array()) {
    for (const toml::node& node : *buckets) {
      const toml::table& table = *node.as_table();
      const std::string name = *table["name"].value_exact<std::string>();
      CheckShownProps(table, file->buckets.Get(name));
    }
  }

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
