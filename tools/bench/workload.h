// Workload: YCSB's core workloads as operation mixes.
//
//   a  50% read, 50% update            (zipfian)
//   b  95% read,  5% update            (zipfian)
//   c  100% read                       (zipfian)
//   d  95% read,  5% insert            (latest)
//   f  50% read, 50% read-modify-write (zipfian)
//
// The distribution in parentheses is YCSB's default; --distribution
// overrides it. The load phase inserts every record once, in key-number
// order. A value type; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/random.h"
#include "tools/bench/key_chooser.h"

namespace ringkv::bench {

// One kind of operation a workload issues. Ping measures a bare round trip.
enum class OpType { kRead, kUpdate, kInsert, kReadModifyWrite, kPing };
inline constexpr int kOpTypeCount = 5;

// "read", "update", "insert", "read_modify_write", "ping" (JSON keys).
std::string_view OpTypeName(OpType type);

struct Workload {
  char name = 'a';
  double read = 0, update = 0, insert = 0, read_modify_write = 0;
  Distribution distribution = Distribution::kZipfian;

  // nullopt for an unknown name.
  static std::optional<Workload> Named(char name);
  OpType Choose(Random& random) const;
  bool inserts() const { return insert > 0; }
};

std::optional<Distribution> ParseDistribution(std::string_view name);
std::string_view DistributionName(Distribution distribution);

}  // namespace ringkv::bench
