// Key choice for ringkv-bench, following YCSB (core/src/main/java/site/ycsb/
// generator/) so that figures compare with published YCSB runs:
//
//   uniform  every loaded key equally likely;
//   zipfian  YCSB's ScrambledZipfianGenerator: a Zipfian over 10^10 items
//            with constant 0.99 (its zeta precomputed by YCSB), scrambled by
//            FNV-1a-64 modulo the record count, so popular keys are spread
//            over the key space instead of being the lowest numbers;
//   latest   YCSB's SkewedLatestGenerator: the most recently inserted key is
//            the most popular, a Zipfian over the distance from it.
//
// Key numbers become key names as in YCSB's default hashed insert order:
// "user" followed by the decimal FNV-64 hash of the number.
//
// KeyChooser is not thread-safe (each load thread owns one); InsertCounter is.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/random.h"

namespace ringkv::bench {

inline constexpr double kZipfianConstant = 0.99;

// YCSB's Utils.fnvhash64: FNV-1a over the 8 little-endian bytes of `value`,
// made non-negative as Java's Math.abs does.
int64_t FnvHash64(int64_t value);

// "user" + decimal FnvHash64(keynum).
std::string KeyName(int64_t keynum);

// sum_{i=1..n} 1 / i^theta, continuing from a sum already known up to `from`.
double Zeta(int64_t from, int64_t n, double theta, double initial_sum);

// YCSB's ZipfianGenerator over [0, items): item 0 most popular.
class ZipfianGenerator {
 public:
  // Computes zeta(items), O(items).
  ZipfianGenerator(int64_t items, double theta);
  // Takes a precomputed zeta(items) (YCSB does so for 10^10 items).
  ZipfianGenerator(int64_t items, double theta, double zetan);

  // A value in [0, item_count) (item_count may grow; zeta is extended
  // incrementally as YCSB does).
  int64_t Next(Random& random, int64_t item_count);
  int64_t Next(Random& random) { return Next(random, items_); }

 private:
  void SetItems(int64_t items);
  int64_t items_;
  double theta_, alpha_, zeta2theta_, zetan_, eta_;
};

// Issues key numbers for inserts and tracks which have been acknowledged,
// so that "latest" never picks a key whose insert has not completed (YCSB's
// AcknowledgedCounterGenerator). Thread-safe.
class InsertCounter {
 public:
  // Keys [0, start) exist already.
  explicit InsertCounter(int64_t start);
  int64_t Next() { return next_.fetch_add(1, std::memory_order_relaxed); }
  void Acknowledge(int64_t keynum);
  // Highest key number below which every insert has been acknowledged, minus one.
  int64_t LastAcknowledged() const { return limit_.load(std::memory_order_acquire); }

 private:
  static constexpr int64_t kWindow = int64_t{1} << 20;
  std::atomic<int64_t> next_;
  std::atomic<int64_t> limit_;
  std::mutex mu_;
  std::vector<bool> acked_;  // guarded by mu_; slot keynum % kWindow
};

enum class Distribution { kUniform, kZipfian, kLatest };

// Chooses key numbers of existing records.
class KeyChooser {
 public:
  // `records` keys were loaded; `inserts` (may be null when the workload
  // never inserts) tells "latest" where the newest key is.
  KeyChooser(Distribution distribution, int64_t records, const InsertCounter* inserts);
  int64_t Next(Random& random);

 private:
  Distribution distribution_;
  int64_t records_;
  const InsertCounter* inserts_;
  std::unique_ptr<ZipfianGenerator> zipfian_;
};

}  // namespace ringkv::bench
