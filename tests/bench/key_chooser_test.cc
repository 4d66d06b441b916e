#include "tools/bench/key_chooser.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "tools/bench/workload.h"

namespace ringkv::bench {
namespace {

TEST(KeyChooserTest, FnvHashMatchesYcsb) {
  // Values computed with YCSB's Utils.fnvhash64 (FNV-1a over 8 bytes, abs).
  EXPECT_GE(FnvHash64(0), 0);
  EXPECT_NE(FnvHash64(1), FnvHash64(2));
  EXPECT_EQ(KeyName(7).rfind("user", 0), 0u);
  // FNV-1a of eight zero bytes, as a reference independent of our loop.
  uint64_t h = 0xCBF29CE484222325ULL;
  for (int i = 0; i < 8; ++i) h *= 1099511628211ULL;
  const auto expect = static_cast<int64_t>(h);
  EXPECT_EQ(FnvHash64(0), expect < 0 ? -expect : expect);
}

TEST(KeyChooserTest, ZetaIncrementalEqualsDirect) {
  const double direct = Zeta(0, 1000, 0.99, 0);
  const double incremental = Zeta(400, 1000, 0.99, Zeta(0, 400, 0.99, 0));
  EXPECT_NEAR(direct, incremental, 1e-9);
}

TEST(KeyChooserTest, ZipfianStaysInRangeAndFavoursItemZero) {
  Random random(1);
  ZipfianGenerator zipf(1000, kZipfianConstant);
  std::vector<int> counts(1000);
  for (int i = 0; i < 100000; ++i) {
    const int64_t v = zipf.Next(random);
    ASSERT_GE(v, 0);
    ASSERT_LT(v, 1000);
    ++counts[static_cast<size_t>(v)];
  }
  // P(0) = 1/zeta(1000, 0.99) ~ 0.13; the head is far above the tail.
  EXPECT_GT(counts[0], 10000);
  EXPECT_LT(counts[0], 16000);
  EXPECT_GT(counts[0], counts[1]);
  EXPECT_GT(counts[1], counts[10]);
}

TEST(KeyChooserTest, UniformAndZipfianCoverTheKeySpace) {
  for (Distribution d : {Distribution::kUniform, Distribution::kZipfian}) {
    Random random(2);
    KeyChooser chooser(d, 100, nullptr);
    std::map<int64_t, int> seen;
    for (int i = 0; i < 20000; ++i) {
      const int64_t k = chooser.Next(random);
      ASSERT_GE(k, 0);
      ASSERT_LT(k, 100);
      ++seen[k];
    }
    EXPECT_GT(seen.size(), 90u) << DistributionName(d);
  }
}

TEST(KeyChooserTest, ScrambledZipfianIsSkewed) {
  Random random(3);
  KeyChooser chooser(Distribution::kZipfian, 100000, nullptr);
  std::map<int64_t, int> seen;
  for (int i = 0; i < 100000; ++i) ++seen[chooser.Next(random)];
  int top = 0;
  for (const auto& [k, n] : seen) top = std::max(top, n);
  // Uniform would give about one hit per key; the hottest key gets thousands.
  EXPECT_GT(top, 1000);
}

TEST(KeyChooserTest, LatestFollowsAcknowledgedInserts) {
  InsertCounter inserts(100);
  EXPECT_EQ(inserts.LastAcknowledged(), 99);
  const int64_t a = inserts.Next(), b = inserts.Next();
  EXPECT_EQ(a, 100);
  EXPECT_EQ(b, 101);
  inserts.Acknowledge(b);  // a still in flight: b must not be visible yet
  EXPECT_EQ(inserts.LastAcknowledged(), 99);
  inserts.Acknowledge(a);
  EXPECT_EQ(inserts.LastAcknowledged(), 101);

  Random random(4);
  KeyChooser chooser(Distribution::kLatest, 100, &inserts);
  int newest = 0;
  for (int i = 0; i < 10000; ++i) {
    const int64_t k = chooser.Next(random);
    ASSERT_GE(k, 0);
    ASSERT_LE(k, 101);
    newest += k == 101;
  }
  EXPECT_GT(newest, 1000);
}

TEST(WorkloadTest, MixesMatchYcsb) {
  Random random(5);
  for (char name : {'a', 'b', 'c', 'd', 'f'}) {
    std::optional<Workload> w = Workload::Named(name);
    ASSERT_TRUE(w.has_value());
    std::map<OpType, int> counts;
    for (int i = 0; i < 100000; ++i) ++counts[w->Choose(random)];
    EXPECT_NEAR(counts[OpType::kRead] / 1e5, w->read, 0.01) << name;
    EXPECT_NEAR(counts[OpType::kUpdate] / 1e5, w->update, 0.01) << name;
    EXPECT_NEAR(counts[OpType::kInsert] / 1e5, w->insert, 0.01) << name;
    EXPECT_NEAR(counts[OpType::kReadModifyWrite] / 1e5, w->read_modify_write, 0.01) << name;
  }
  EXPECT_FALSE(Workload::Named('e').has_value());
  EXPECT_EQ(Workload::Named('d')->distribution, Distribution::kLatest);
}

}  // namespace
}  // namespace ringkv::bench
