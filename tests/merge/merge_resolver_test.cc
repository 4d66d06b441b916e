// Issue 13: a merge bucket's resolver. Replicas keep concurrent siblings
// apart, in bytes that do not depend on the order states met in; a read
// answers them as one value, and a write merges them under its new dot; what the
// plugin cannot merge (a value it cannot parse, a failure, garbage or an
// oversized result, a breaker resting) keeps every sibling; a bucket naming
// a plugin the node lacks keeps siblings; with 1% of merges failing no value
// is lost and the failure counter counts exactly those.
#include "merge/merge_resolver.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "causality/object_codec.h"
#include "merge/collapse.h"
#include "merge/plugin_catalog.h"
#include "replication/bucket.h"
#include "tests/merge/plugin_test_util.h"
#include "tests/testing/fake_env.h"

namespace ringkv::testing {
namespace {

Actor A{"n1", 1}, B{"n2", 1}, C{"n3", 1};

// A blind write of `value` by `who`: concurrent with every other one.
Object Write(const Actor& who, int64_t ts, const std::string& value, const Object& base = {}) {
  return Update(base, {}, who, ts, false, value);
}

double Value(const MetricsRegistry& metrics, const std::string& name, const MetricLabels& labels) {
  for (const MetricSample& s : metrics.Snapshot()) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return -1;
}

class MergeResolverTest : public ::testing::Test {
 protected:
  const Resolver& Load(const std::string& path, const std::string& name) {
    LawCheckOptions none;
    none.samples = 0;
    Status st = catalog_.Load(path, none);
    EXPECT_TRUE(st.ok()) << st.ToString();
    const Resolver* r = catalog_.Find("merge:" + name, 0, "");
    EXPECT_NE(r, nullptr);
    return r != nullptr ? *r : DefaultResolver();
  }

  ManualClock clock_;
  MetricsRegistry metrics_;
  PluginCatalog catalog_{&clock_, &metrics_};
};

TEST_F(MergeResolverTest, ConcurrentSiblingsReadAsOneValueWhateverOrderStatesMeetIn) {
  const Resolver& gset = Load(BuiltinPlugin("gset"), "gset");
  const Object a = Write(A, 10, "x\n"), b = Write(B, 10, "y\n"), c = Write(C, 5, "x\nz\n");
  const Object abc = gset.Merge(gset.Merge(a, b), c);
  EXPECT_EQ(abc.siblings.size(), 3u);
  const Object answer = gset.Answer(abc);
  ASSERT_EQ(answer.siblings.size(), 1u);
  EXPECT_EQ(answer.siblings[0].value, "x\ny\nz\n");
  // The greatest stamp (timestamp 10, node n2) stands for the merge.
  EXPECT_EQ(answer.siblings[0].dot, (Dot{B, 1}));
  EXPECT_EQ(CheckInvariants(abc), "");
  const std::string bytes = EncodeObject(abc);
  for (const Object& other : {gset.Merge(a, gset.Merge(c, b)), gset.Merge(gset.Merge(c, a), b),
                              gset.Merge(b, gset.Merge(a, c))}) {
    EXPECT_EQ(EncodeObject(other), bytes);
  }
  // A replica that still holds an original meets the merged state: no change.
  EXPECT_EQ(EncodeObject(gset.Merge(abc, b)), bytes);
  EXPECT_EQ(EncodeObject(gset.Merge(a, abc)), bytes);
}

TEST_F(MergeResolverTest, OnlyTrulyConcurrentSiblingsAreMerged) {
  const Resolver& gset = Load(BuiltinPlugin("gset"), "gset");
  const Object first = Write(A, 1, "old\n");
  // A write with the context of `first` supersedes it: "old" must not come
  // back through the merge.
  const Object replaced = Update(first, first.context, A, 2, false, "new\n");
  EXPECT_EQ(gset.Merge(first, replaced).siblings.size(), 1u);
  EXPECT_EQ(gset.Merge(first, replaced).siblings[0].value, "new\n");
  // The coordinator's own write: a blind one joins what is stored.
  const Object blind = gset.AfterUpdate(&replaced, Write(A, 3, "more\n", replaced));
  ASSERT_EQ(blind.siblings.size(), 1u);
  EXPECT_EQ(blind.siblings[0].value, "more\nnew\n");
}

// Two increments cross: alice's (coordinated by A, stamped 10) and bob's
// (by B, stamped 11, later but without alice's in its context). Bob reads
// his own write only, and writes again with that context while alice's
// increment, acknowledged meanwhile, reaches every replica. A merged
// sibling that took bob's first dot would be covered by bob's context, and
// alice's increment with it, on every replica.
TEST_F(MergeResolverTest, AWriteWhoseContextCoversOneInputOfAMergeKeepsTheOthers) {
  const Resolver& counter = Load(BuiltinPlugin("pncounter"), "pncounter");
  const Object alice = Write(A, 10, "alice 1 0\n");
  const Object bob = Write(B, 11, "bob 1 0\n");
  const VersionVector bob_read = bob.context;
  Object on_a = counter.Merge(alice, bob);
  Object on_b = counter.Merge(bob, alice);
  const Object bob_again = Update(on_b, bob_read, B, 12, false, "bob 2 0\n");
  on_b = counter.AfterUpdate(&on_b, bob_again);
  on_a = counter.Merge(on_a, on_b);
  for (const Object& replica : {on_a, on_b, counter.Merge(on_a, on_b)}) {
    const Object read = counter.Answer(replica);
    ASSERT_EQ(read.Values().size(), 1u);
    EXPECT_EQ(read.Values()[0]->value, "alice 1 0\nbob 2 0\n");
  }
  EXPECT_EQ(EncodeObject(on_a), EncodeObject(on_b));
}

TEST_F(MergeResolverTest, ConcurrentTombstonesBecomeOneAndStayBesideTheMergedValue) {
  const Resolver& max = Load(BuiltinPlugin("max"), "max");
  Object s = Write(A, 1, "5");
  s = Update(s, {}, B, 2, true, "");
  s = Update(s, {}, C, 3, true, "");
  s = Update(s, {}, A, 4, false, "7");
  const Object out = max.Answer(max.Normalize(s));
  ASSERT_EQ(out.siblings.size(), 2u);
  EXPECT_EQ(out.Values().size(), 1u);
  EXPECT_EQ(out.Values()[0]->value, "7");
}

TEST_F(MergeResolverTest, WhatThePluginCannotMergeKeepsEverySibling) {
  const Resolver& counter = Load(BuiltinPlugin("pncounter"), "pncounter");
  const Object good = Write(A, 1, "a 3 0\n");
  const Object bad = Write(B, 1, "not a counter");
  const Object out = counter.Answer(counter.Merge(good, bad));
  EXPECT_EQ(out.siblings.size(), 2u);
  EXPECT_EQ(Value(metrics_, "ringkv_merge_failures_total",
                  {{"plugin", "pncounter"}, {"reason", "declined"}}),
            1);
  for (const char* hostile : {"garbage", "oversized"}) {
    const Resolver& r = Load(TestPlugin(hostile), hostile);
    const Object kept = r.Answer(r.Merge(Write(A, 1, "a"), Write(B, 1, "b")));
    ASSERT_EQ(kept.siblings.size(), 2u) << hostile;
    EXPECT_EQ(kept.siblings[0].value, "a");
    EXPECT_EQ(kept.siblings[1].value, "b");
    EXPECT_EQ(Value(metrics_, "ringkv_merge_failures_total",
                    {{"plugin", hostile}, {"reason", "invalid_output"}}),
              1)
        << hostile;
  }
}

TEST_F(MergeResolverTest, ABucketNamingAPluginThisNodeLacksKeepsSiblings) {
  Load(BuiltinPlugin("max"), "max");
  BucketTable buckets;
  buckets.Set("unknown", ParseBucketProps("resolver=merge:nosuch", {}).value());
  buckets.Set("pinned", ParseBucketProps("resolver=merge:max,plugin_version=9", {}).value());
  buckets.Set("max", ParseBucketProps("resolver=merge:max", {}).value());
  buckets.set_catalog(&catalog_);
  EXPECT_EQ(buckets.ResolverFor("unknown").Name(), "siblings");
  EXPECT_EQ(buckets.ResolverFor("pinned").Name(), "siblings");
  EXPECT_EQ(buckets.ResolverFor("max").Name(), "merge:max");
  EXPECT_EQ(buckets.ResolverFor("unknown").Merge(Write(A, 1, "1"), Write(B, 1, "2")).siblings.size(),
            2u);
  // Names outside the grammar are refused where bucket properties are read.
  EXPECT_FALSE(ParseBucketProps("resolver=merge:", {}).ok());
  EXPECT_FALSE(ParseBucketProps("resolver=merge:Max", {}).ok());
  EXPECT_FALSE(ParseBucketProps("resolver=merge:a/b", {}).ok());
  EXPECT_FALSE(ParseBucketProps("resolver=merge:max,plugin_hash=xyz", {}).ok());
}

TEST_F(MergeResolverTest, WithOnePercentOfMergesFailingNoValueIsLostAndEachFailureIsCounted) {
  // The flaky plugin keeps the greatest value; on 1% of inputs it declines.
  const Resolver& flaky = Load(TestPlugin("flaky"), "flaky");
  void* handle = dlopen(TestPlugin("flaky").c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  auto failures = reinterpret_cast<uint64_t (*)()>(dlsym(handle, "flaky_failures"));
  ASSERT_NE(failures, nullptr);
  const uint64_t failed_before = failures();

  // 2,000 keys, each written by two concurrent writers.
  int kept_both = 0;
  for (int k = 0; k < 2000; ++k) {
    const std::string x = "x" + std::to_string(k), y = "y" + std::to_string(k * 7919);
    const Object merged = flaky.Answer(flaky.Merge(Write(A, k, x), Write(B, k, y)));
    std::set<std::string> values;
    for (const Sibling* s : merged.Values()) values.insert(s->value);
    if (values.size() == 2) {
      // Declined: both written values are readable, as siblings.
      EXPECT_EQ(values, (std::set<std::string>{x, y}));
      ++kept_both;
    } else {
      ASSERT_EQ(values.size(), 1u);
      const std::string winner = x.size() != y.size() ? (x.size() > y.size() ? x : y) : std::max(x, y);
      EXPECT_EQ(*values.begin(), winner);
    }
  }
  const uint64_t failed = failures() - failed_before;
  std::printf("flaky: %llu of 2000 merges failed\n", static_cast<unsigned long long>(failed));
  EXPECT_GT(failed, 0u);
  EXPECT_EQ(static_cast<uint64_t>(kept_both), failed);
  EXPECT_EQ(Value(metrics_, "ringkv_merge_failures_total",
                  {{"plugin", "flaky"}, {"reason", "declined"}}),
            static_cast<double>(failed));
  EXPECT_EQ(Value(metrics_, "ringkv_merge_skipped_total", {{"plugin", "flaky"}}), 0);
  dlclose(handle);
}

TEST_F(MergeResolverTest, TheBreakerRestsAPluginThatKeepsFailingThenTriesItAgain) {
  const Resolver& decline = Load(TestPlugin("decline"), "decline");
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(decline.Answer(decline.Merge(Write(A, i, "a"), Write(B, i, "b"))).siblings.size(),
              2u);
  }
  const MetricLabels plugin = {{"plugin", "decline"}};
  EXPECT_EQ(Value(metrics_, "ringkv_merge_calls_total", plugin), 5);
  EXPECT_EQ(Value(metrics_, "ringkv_merge_skipped_total", plugin), 3);
  EXPECT_EQ(Value(metrics_, "ringkv_merge_breaker_trips_total", plugin), 1);
  // After the cool-down one call is let through; it fails, and the breaker
  // opens again at once.
  clock_.Set(clock_.MonoMicros() + 11'000'000);
  decline.Answer(decline.Merge(Write(A, 9, "a"), Write(B, 9, "b")));
  decline.Answer(decline.Merge(Write(A, 10, "a"), Write(B, 10, "b")));
  EXPECT_EQ(Value(metrics_, "ringkv_merge_calls_total", plugin), 6);
  EXPECT_EQ(Value(metrics_, "ringkv_merge_skipped_total", plugin), 4);
}

}  // namespace
}  // namespace ringkv::testing
