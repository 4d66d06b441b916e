#include "node/cluster_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "common/host_port.h"

namespace ringkv {
namespace {

constexpr int64_t kClusterFileVersion = 1;

bool IsPowerOfTwo(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

std::string Where(const std::string& path, const toml::source_region& src) {
  return path + ":" + std::to_string(src.begin.line);
}

// Reads an optional unsigned integer field; absent leaves *out unchanged.
// Integers are read with value_exact throughout: value<int64_t>() would
// convert a float, and casts one beyond int64's range with undefined
// behaviour (found by the cluster_file fuzz target).
Status ReadUint(const toml::table& table, std::string_view key, const std::string& where,
                uint32_t* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::OK();
  std::optional<int64_t> v = node->value_exact<int64_t>();
  if (!v || *v < 0 || *v > UINT32_MAX) {
    return Status::InvalidArgument(where + ": '" + std::string(key) +
                                   "' must be a non-negative integer");
  }
  *out = static_cast<uint32_t>(*v);
  return Status::OK();
}

// Bucket properties from a [bucket_defaults] or [[bucket]] table, validated by
// the one parser every bucket spec goes through (replication/bucket.h). Each
// property must have the type the grammar gives it (docs/cluster-file.md),
// and none may hold a ',': the properties travel to that parser as one
// "k=v,k=v" spec, where a ',' would smuggle in a property the file does not
// show.
Result<BucketProps> ReadBucketProps(const toml::table& table, const BucketProps& base,
                                    const std::string& where) {
  std::string spec;
  for (const auto& [key, node] : table) {
    const std::string_view k = key.str();
    if (k == "name") continue;
    const bool cap = k == "max_siblings" || k == "warn_siblings" || k == "plugin_version";
    const bool text_value = k == "resolver" || k == "plugin_hash";
    if (k != "n" && k != "r" && k != "w" && !text_value && !cap) {
      return Status::InvalidArgument(where + ": unknown bucket property '" + std::string(k) +
                                     "' (expected resolver, n, r, w, max_siblings, "
                                     "warn_siblings, plugin_version, plugin_hash)");
    }
    const std::optional<int64_t> number = node.value_exact<int64_t>();
    const std::optional<std::string> text = node.value_exact<std::string>();
    std::optional<std::string> value;
    if (text_value) {
      if (text && text->find(',') == std::string::npos) value = text;
    } else if (number) {
      value = std::to_string(*number);
    } else if (k != "n" && !cap && text && (*text == "one" || *text == "quorum" || *text == "all")) {
      value = text;
    }
    if (!value) {
      return Status::InvalidArgument(
          where + ": '" + std::string(k) + "' must be " +
          (k == "resolver"       ? "a resolver name"
           : k == "plugin_hash" ? "a string of hex digits"
           : k == "n" || cap ? "an integer"
                             : "an integer, \"one\", \"quorum\" or \"all\""));
    }
    if (!spec.empty()) spec += ",";
    spec += std::string(k) + "=" + *value;
  }
  Result<BucketProps> props = ParseBucketProps(spec, base);
  if (!props.ok()) return Status::InvalidArgument(where + ": " + props.status().message());
  return props;
}

// Unknown keys are refused: a misspelt key would otherwise be silently
// ignored (and a key after a [[member]] header belongs to that member).
Status CheckKeys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                 const std::string& where) {
  for (const auto& [key, node] : table) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
      return Status::InvalidArgument(where + ": unknown key '" + std::string(key.str()) + "'");
    }
  }
  return Status::OK();
}

toml::table BucketPropsTable(const BucketProps& props) {
  toml::table table{{"n", static_cast<int64_t>(props.n)},
                    {"r", static_cast<int64_t>(props.r)},
                    {"w", static_cast<int64_t>(props.w)},
                    {"resolver", props.resolver},
                    {"max_siblings", static_cast<int64_t>(props.max_siblings)},
                    {"warn_siblings", static_cast<int64_t>(props.warn_siblings)}};
  if (props.plugin_version != 0) {
    table.insert("plugin_version", static_cast<int64_t>(props.plugin_version));
  }
  if (!props.plugin_hash.empty()) table.insert("plugin_hash", props.plugin_hash);
  return table;
}

Result<ClusterFile> FromToml(const toml::table& root, const std::string& path) {
  ClusterFile file;
  const std::string& top = path;
  if (const toml::node* node = root.get("version")) {
    std::optional<int64_t> version = node->value_exact<int64_t>();
    if (!version) return Status::InvalidArgument(top + ": 'version' must be an integer");
    if (*version != kClusterFileVersion) {
      return Status::InvalidArgument(top + ": unsupported cluster file version " +
                                     std::to_string(*version));
    }
  }
  RINGKV_RETURN_IF_ERROR(
      CheckKeys(root, {"version", "partitions", "n", "bucket_defaults", "member", "bucket"}, top));
  RINGKV_RETURN_IF_ERROR(ReadUint(root, "partitions", top, &file.partitions));
  RINGKV_RETURN_IF_ERROR(ReadUint(root, "n", top, &file.n));
  if (!IsPowerOfTwo(file.partitions)) {
    return Status::InvalidArgument(top + ": partitions must be a power of two, got " +
                                   std::to_string(file.partitions));
  }
  if (file.n == 0) return Status::InvalidArgument(top + ": n must be at least 1");

  const toml::array* members = root["member"].as_array();
  if (members == nullptr || members->empty()) {
    return Status::InvalidArgument(top + ": no [[member]] entries");
  }
  std::set<std::string> ids, addresses;
  for (const toml::node& node : *members) {
    const toml::table* m = node.as_table();
    const std::string where = Where(path, node.source());
    if (m == nullptr) return Status::InvalidArgument(where + ": [[member]] must be a table");
    RINGKV_RETURN_IF_ERROR(CheckKeys(*m, {"id", "address"}, where));
    std::optional<std::string> id = (*m)["id"].value_exact<std::string>();
    std::optional<std::string> address = (*m)["address"].value_exact<std::string>();
    if (!id || id->empty()) return Status::InvalidArgument(where + ": member without an id");
    if (!address) return Status::InvalidArgument(where + ": member " + *id + " has no address");
    Result<HostPort> parsed = ParseHostPort(*address);
    if (!parsed.ok()) return Status::InvalidArgument(where + ": " + parsed.status().message());
    if (!ids.insert(*id).second) {
      return Status::InvalidArgument(where + ": duplicate member id " + *id);
    }
    if (!addresses.insert(*address).second) {
      return Status::InvalidArgument(where + ": duplicate member address " + *address);
    }
    file.members.push_back({*id, *address});
  }

  BucketProps defaults;
  defaults.n = file.n;
  defaults.r = defaults.w = file.n / 2 + 1;
  if (const toml::table* t = root["bucket_defaults"].as_table()) {
    Result<BucketProps> props = ReadBucketProps(*t, defaults, Where(path, t->source()));
    if (!props.ok()) return props.status();
    defaults = *props;
  }
  file.buckets = BucketTable(defaults);
  if (const toml::node* buckets = root.get("bucket")) {
    const toml::array* list = buckets->as_array();
    if (list == nullptr) return Status::InvalidArgument(top + ": 'bucket' must be [[bucket]]");
    for (const toml::node& node : *list) {
      const toml::table* b = node.as_table();
      const std::string where = Where(path, node.source());
      if (b == nullptr) return Status::InvalidArgument(where + ": [[bucket]] must be a table");
      std::optional<std::string> name = (*b)["name"].value_exact<std::string>();
      if (!name || name->empty()) return Status::InvalidArgument(where + ": bucket without a name");
      if (file.buckets.named().count(*name) != 0) {
        return Status::InvalidArgument(where + ": duplicate bucket " + *name);
      }
      Result<BucketProps> props = ReadBucketProps(*b, defaults, where);
      if (!props.ok()) return props.status();
      file.buckets.Set(*name, *props);
    }
  }
  return file;
}

}  // namespace

Result<ClusterFile> ReadClusterFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path);
  return ParseClusterFile(text.str(), path);
}

Result<ClusterFile> ParseClusterFile(std::string_view text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& err) {
    return Status::InvalidArgument(Where(path, err.source()) + ": " +
                                   std::string(err.description()));
  }
  return FromToml(root, path);
}

std::string FormatClusterFile(const ClusterFile& file) {
  toml::table root{{"version", kClusterFileVersion},
                   {"partitions", static_cast<int64_t>(file.partitions)},
                   {"n", static_cast<int64_t>(file.n)},
                   {"bucket_defaults", BucketPropsTable(file.buckets.defaults())}};
  toml::array members;
  for (const ClusterMember& m : file.members) {
    members.push_back(toml::table{{"id", m.id}, {"address", m.address}});
  }
  root.insert("member", std::move(members));
  if (!file.buckets.named().empty()) {
    toml::array buckets;
    for (const auto& [name, props] : file.buckets.named()) {
      toml::table t = BucketPropsTable(props);
      t.insert("name", name);
      buckets.push_back(std::move(t));
    }
    root.insert("bucket", std::move(buckets));
  }
  std::ostringstream text;
  text << "# ringkv cluster file (docs/cluster-file.md); written by ringkv-cluster.\n"
       << root << "\n";
  return text.str();
}

Status WriteClusterFile(const std::string& path, const ClusterFile& file) {
  // Written beside the target and renamed over it, so a reader never sees
  // half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::IOError("cannot write " + tmp);
    out << FormatClusterFile(file);
    out.flush();
    if (!out) return Status::IOError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IOError("cannot rename " + tmp + " to " + path);
  }
  return Status::OK();
}

}  // namespace ringkv
