#include "tools/bench/key_chooser.h"

#include <cmath>

namespace ringkv::bench {
namespace {

// YCSB ScrambledZipfianGenerator.ITEM_COUNT and ZETAN (zeta(10^10, 0.99)).
constexpr int64_t kScrambledItems = 10'000'000'000LL;
constexpr double kScrambledZetan = 26.46902820178302;

constexpr uint64_t kFnvOffsetBasis64 = 0xCBF29CE484222325ULL;
constexpr uint64_t kFnvPrime64 = 1099511628211ULL;

}  // namespace

int64_t FnvHash64(int64_t value) {
  uint64_t v = static_cast<uint64_t>(value);
  uint64_t hash = kFnvOffsetBasis64;
  for (int i = 0; i < 8; ++i) {
    hash ^= v & 0xff;
    hash *= kFnvPrime64;
    v >>= 8;
  }
  const auto signed_hash = static_cast<int64_t>(hash);
  // Java's Math.abs leaves Long.MIN_VALUE negative; callers reduce modulo a
  // positive count, so map it to 0 instead of overflowing.
  if (signed_hash == INT64_MIN) return 0;
  return signed_hash < 0 ? -signed_hash : signed_hash;
}

std::string KeyName(int64_t keynum) { return "user" + std::to_string(FnvHash64(keynum)); }

double Zeta(int64_t from, int64_t n, double theta, double initial_sum) {
  double sum = initial_sum;
  for (int64_t i = from; i < n; ++i) sum += 1.0 / std::pow(static_cast<double>(i + 1), theta);
  return sum;
}

ZipfianGenerator::ZipfianGenerator(int64_t items, double theta)
    : ZipfianGenerator(items, theta, Zeta(0, items, theta, 0.0)) {}

ZipfianGenerator::ZipfianGenerator(int64_t items, double theta, double zetan)
    : items_(items),
      theta_(theta),
      alpha_(1.0 / (1.0 - theta)),
      zeta2theta_(Zeta(0, 2, theta, 0.0)),
      zetan_(zetan) {
  eta_ = (1 - std::pow(2.0 / static_cast<double>(items_), 1 - theta_)) / (1 - zeta2theta_ / zetan_);
}

void ZipfianGenerator::SetItems(int64_t items) {
  if (items > items_) {
    zetan_ = Zeta(items_, items, theta_, zetan_);
  } else {
    zetan_ = Zeta(0, items, theta_, 0.0);
  }
  items_ = items;
  eta_ = (1 - std::pow(2.0 / static_cast<double>(items_), 1 - theta_)) / (1 - zeta2theta_ / zetan_);
}

int64_t ZipfianGenerator::Next(Random& random, int64_t item_count) {
  if (item_count != items_) SetItems(item_count);
  const double u = random.NextDouble();
  const double uz = u * zetan_;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
  const auto ret = static_cast<int64_t>(static_cast<double>(items_) *
                                        std::pow(eta_ * u - eta_ + 1, alpha_));
  return ret < items_ ? ret : items_ - 1;
}

InsertCounter::InsertCounter(int64_t start)
    : next_(start), limit_(start - 1), acked_(kWindow, false) {}

void InsertCounter::Acknowledge(int64_t keynum) {
  std::lock_guard<std::mutex> lock(mu_);
  acked_[keynum % kWindow] = true;
  int64_t limit = limit_.load(std::memory_order_relaxed);
  while (acked_[(limit + 1) % kWindow] && limit + 1 < next_.load(std::memory_order_relaxed)) {
    ++limit;
    acked_[limit % kWindow] = false;
  }
  limit_.store(limit, std::memory_order_release);
}

KeyChooser::KeyChooser(Distribution distribution, int64_t records, const InsertCounter* inserts)
    : distribution_(distribution), records_(records), inserts_(inserts) {
  if (distribution_ == Distribution::kZipfian) {
    zipfian_ = std::make_unique<ZipfianGenerator>(kScrambledItems + 1, kZipfianConstant,
                                                  kScrambledZetan);
  } else if (distribution_ == Distribution::kLatest) {
    zipfian_ = std::make_unique<ZipfianGenerator>(records_, kZipfianConstant);
  }
}

int64_t KeyChooser::Next(Random& random) {
  switch (distribution_) {
    case Distribution::kUniform:
      return static_cast<int64_t>(random.Uniform(static_cast<uint64_t>(records_)));
    case Distribution::kZipfian:
      return FnvHash64(zipfian_->Next(random)) % records_;
    case Distribution::kLatest: {
      const int64_t last = inserts_ != nullptr ? inserts_->LastAcknowledged() : records_ - 1;
      const int64_t next = last - zipfian_->Next(random, last + 1);
      return next < 0 ? 0 : next;
    }
  }
  return 0;
}

}  // namespace ringkv::bench
