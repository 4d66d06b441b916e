// Issue 15: `ringkv-admin bucket NAME --set` as the claimant checks it
// (replication/bucket_change.h), SetBucket's new epoch (ring/ring_state.h),
// and a node's bucket table taking the ring's (BucketTable::Assign), with
// hostile specs and names.
#include <gtest/gtest.h>

#include <string>

#include "replication/bucket.h"
#include "replication/bucket_change.h"
#include "replication/ring_state_codec.h"
#include "ring/ring_state.h"

namespace ringkv {
namespace {

RingState ThreeNodes() {
  Result<RingState> state = BootstrapState({{"n1", "127.0.0.1:1", MemberStatus::kValid},
                                            {"n2", "127.0.0.1:2", MemberStatus::kValid},
                                            {"n3", "127.0.0.1:3", MemberStatus::kValid}},
                                           64, 3,
                                           {BucketInfo{"", 3, 2, 2, "siblings"},
                                            BucketInfo{"carts", 3, 1, 3, "lww"}});
  EXPECT_TRUE(state.ok()) << state.status().ToString();
  return std::move(state).value();
}

// A catalog holding one plugin, "merge:max" version 2 with hash abcdef12....
class OnePlugin : public ResolverCatalog {
 public:
  const Resolver* Find(std::string_view name, uint32_t version,
                       std::string_view sha256_prefix) const override {
    const bool hash_ok = std::string_view("abcdef1234567890").starts_with(sha256_prefix);
    if (name == "merge:max" && (version == 0 || version == 2) && hash_ok) {
      return &DefaultResolver();
    }
    return nullptr;
  }
};

Result<BucketInfo> Check(std::string_view name, std::string_view spec,
                         const ResolverCatalog* catalog = nullptr) {
  return CheckBucketChange(ThreeNodes(), name, spec, catalog, "n1");
}

// InvalidArgument whose message holds `needle`.
void ExpectRefused(const Result<BucketInfo>& r, const std::string& needle) {
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
}

TEST(BucketChangeTest, SetsOverTheBucketsOwnPropertiesOrTheDefaults) {
  Result<BucketInfo> carts = Check("carts", "w=2,resolver=siblings");
  ASSERT_TRUE(carts.ok()) << carts.status().ToString();
  EXPECT_EQ(carts->name, "carts");
  EXPECT_EQ(carts->n, 3u);
  EXPECT_EQ(carts->r, 1u);  // kept from the bucket, not the defaults
  EXPECT_EQ(carts->w, 2u);
  EXPECT_EQ(carts->resolver, "siblings");
  Result<BucketInfo> fresh = Check("fresh", "r=all,max_siblings=7,warn_siblings=3,n=3");
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->r, 3u);
  EXPECT_EQ(fresh->w, 2u);  // the defaults'
  EXPECT_EQ(fresh->max_siblings, 7u);
  EXPECT_EQ(fresh->warn_siblings, 3u);
}

TEST(BucketChangeTest, RefusesHostileNamesAndSpecs) {
  ExpectRefused(Check("", "w=1"), "1 to 255 bytes");
  ExpectRefused(Check(std::string(256, 'b'), "w=1"), "1 to 255 bytes");
  ExpectRefused(Check("carts", ""), "nothing to set");
  ExpectRefused(Check("carts", "w=4"), "w=4 exceeds the bucket's n=3");
  ExpectRefused(Check("carts", "r=0"), "r: quorum must be at least 1");
  ExpectRefused(Check("carts", "w=2x"), "w: quorum must be a number");
  ExpectRefused(Check("carts", "w=-1"), "w: quorum must be a number");
  ExpectRefused(Check("carts", "w=99999999999999999999999"), "w: quorum must be a number");
  ExpectRefused(Check("carts", "w"), "key=value");
  ExpectRefused(Check("carts", "colour=red"), "unknown bucket property 'colour'");
  ExpectRefused(Check("carts", "resolver=bogus"), "unknown resolver 'bogus'");
  ExpectRefused(Check("carts", "max_siblings=0"), "max_siblings");
  ExpectRefused(Check("carts", "plugin_hash=XYZ"), "plugin_hash");
  // Bytes that are no text in a name are still a name: refused only by size.
  EXPECT_TRUE(Check(std::string("\0\xff", 2), "w=1").ok());
}

TEST(BucketChangeTest, NIsRefusedAboveTheMembersAndWhenItWouldChange) {
  ExpectRefused(Check("carts", "n=4"), "more than the 3 members");
  ExpectRefused(Check("carts", "n=2"), "n is 3 and cannot change (n=2 given)");
  ExpectRefused(Check("fresh", "n=1"), "cannot change");
  ExpectRefused(Check("carts", "n=0"), "n must be at least 1");
  EXPECT_TRUE(Check("carts", "n=3,w=all").ok());
}

TEST(BucketChangeTest, AMergeResolverMustBeLoadedOnTheClaimantWithItsPins) {
  const OnePlugin plugins;
  ExpectRefused(Check("carts", "resolver=merge:max"), "not a plugin loaded on the claimant n1");
  ExpectRefused(Check("carts", "resolver=merge:min", &plugins), "resolver=merge:min");
  ExpectRefused(Check("carts", "resolver=merge:max,plugin_version=3", &plugins),
                "plugin_version 3");
  ExpectRefused(Check("carts", "resolver=merge:max,plugin_hash=00000000", &plugins),
                "plugin_hash '00000000'");
  Result<BucketInfo> pinned =
      Check("carts", "resolver=merge:max,plugin_version=2,plugin_hash=abcdef12", &plugins);
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  EXPECT_EQ(pinned->resolver, "merge:max");
  EXPECT_EQ(pinned->plugin_version, 2u);
  EXPECT_EQ(pinned->plugin_hash, "abcdef12");
  // A bucket that names a plugin already keeps it when only w changes,
  // even through a claimant without it.
  RingState s = SetBucket(ThreeNodes(), *pinned).value();
  EXPECT_TRUE(CheckBucketChange(s, "carts", "w=1", nullptr, "n2").ok());
}

TEST(BucketChangeTest, SetBucketIsANewEpochThatRoundTripsAndGossipedBadBucketsAreRefused) {
  const RingState s = ThreeNodes();
  BucketInfo b = Check("carts", "w=3,resolver=siblings,max_siblings=50,warn_siblings=5").value();
  Result<RingState> set = SetBucket(s, b);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->epoch, s.epoch + 1);
  ASSERT_EQ(set->buckets.size(), 2u);
  EXPECT_EQ(set->buckets[1], b);
  Result<RingState> added = SetBucket(*set, Check("new", "r=1").value());
  ASSERT_TRUE(added.ok());
  ASSERT_EQ(added->buckets.size(), 3u);
  EXPECT_EQ(added->buckets[2].name, "new");
  Result<RingState> back = DecodeRingState(EncodeRingState(*added));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, *added);

  // What a buggy or forged member could gossip: refused as a whole.
  auto refused = [&s](auto edit) {
    RingState bad = s;
    edit(bad);
    EXPECT_FALSE(ValidateState(bad).ok());
    EXPECT_FALSE(DecodeRingState(EncodeRingState(bad)).ok());
  };
  refused([](RingState& x) { x.buckets[1].w = 4; });
  refused([](RingState& x) { x.buckets[1].r = 0; });
  refused([](RingState& x) { x.buckets[1].n = 0; });
  refused([](RingState& x) { x.buckets[1].n = 65; });
  refused([](RingState& x) { x.buckets[1].name = ""; });  // a second defaults
  refused([](RingState& x) { x.buckets.push_back(x.buckets[1]); });
  refused([](RingState& x) { x.buckets[1].name = std::string(256, 'x'); });
  refused([](RingState& x) { x.buckets[1].resolver = ""; });
  refused([](RingState& x) { x.buckets[1].max_siblings = kMaxStateSiblingCap + 1; });
  refused([](RingState& x) { x.buckets[1].warn_siblings = x.buckets[1].max_siblings + 1; });
  refused([](RingState& x) { x.buckets[1].plugin_hash = std::string(65, 'a'); });
  refused([](RingState& x) {
    for (size_t i = 0; i <= kMaxStateBuckets; ++i) {
      x.buckets.push_back(BucketInfo{"b" + std::to_string(i), 3, 2, 2, "siblings"});
    }
  });
  EXPECT_FALSE(SetBucket(s, BucketInfo{"carts", 3, 4, 2, "siblings"}).ok());
}

TEST(BucketChangeTest, ANodesTableTakesTheRingsBucketsInPlace) {
  BucketTable table(BucketProps{3, 2, 2, "siblings"});
  table.Set("gone", BucketProps{3, 1, 1, "lww"});
  table.Set("carts", BucketProps{3, 2, 2, "siblings"});
  const OnePlugin plugins;
  table.set_catalog(&plugins);
  const BucketProps& carts = table.Get("carts");
  const BucketProps& defaults = table.defaults();
  table.Assign({BucketInfo{"", 3, 1, 3, "lww"}, BucketInfo{"carts", 3, 3, 1, "lww", 9, 4}});
  EXPECT_EQ(carts.r, 3u);  // the same props, read again
  EXPECT_EQ(carts.w, 1u);
  EXPECT_EQ(carts.max_siblings, 9u);
  EXPECT_EQ(carts.warn_siblings, 4u);
  EXPECT_EQ(defaults.resolver, "lww");
  EXPECT_EQ(table.named().count("gone"), 0u);
  EXPECT_EQ(table.Get("gone").w, 3u);  // now the defaults
  EXPECT_EQ(table.catalog(), &plugins);
  EXPECT_EQ(BucketInfos(table),
            (std::vector<BucketInfo>{BucketInfo{"", 3, 1, 3, "lww"},
                                     BucketInfo{"carts", 3, 3, 1, "lww", 9, 4}}));
}

}  // namespace
}  // namespace ringkv
