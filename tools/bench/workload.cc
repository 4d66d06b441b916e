#include "tools/bench/workload.h"

namespace ringkv::bench {

std::string_view OpTypeName(OpType type) {
  switch (type) {
    case OpType::kRead: return "read";
    case OpType::kUpdate: return "update";
    case OpType::kInsert: return "insert";
    case OpType::kReadModifyWrite: return "read_modify_write";
    case OpType::kPing: return "ping";
  }
  return "unknown";
}

std::optional<Workload> Workload::Named(char name) {
  Workload w;
  w.name = name;
  switch (name) {
    case 'a': w.read = 0.5; w.update = 0.5; break;
    case 'b': w.read = 0.95; w.update = 0.05; break;
    case 'c': w.read = 1.0; break;
    case 'd': w.read = 0.95; w.insert = 0.05; w.distribution = Distribution::kLatest; break;
    case 'f': w.read = 0.5; w.read_modify_write = 0.5; break;
    default: return std::nullopt;
  }
  return w;
}

OpType Workload::Choose(Random& random) const {
  double u = random.NextDouble();
  if ((u -= read) < 0) return OpType::kRead;
  if ((u -= update) < 0) return OpType::kUpdate;
  if ((u -= insert) < 0) return OpType::kInsert;
  if (read_modify_write > 0) return OpType::kReadModifyWrite;
  return OpType::kRead;
}

std::optional<Distribution> ParseDistribution(std::string_view name) {
  if (name == "uniform") return Distribution::kUniform;
  if (name == "zipfian") return Distribution::kZipfian;
  if (name == "latest") return Distribution::kLatest;
  return std::nullopt;
}

std::string_view DistributionName(Distribution distribution) {
  switch (distribution) {
    case Distribution::kUniform: return "uniform";
    case Distribution::kZipfian: return "zipfian";
    case Distribution::kLatest: return "latest";
  }
  return "unknown";
}

}  // namespace ringkv::bench
