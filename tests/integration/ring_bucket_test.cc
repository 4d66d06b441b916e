// Issue 15: `ringkv-admin bucket NAME [--set ...]` on real processes. The
// properties set through one node are committed by the claimant, read back
// from another node, and applied by every coordinator (a put at the new w
// fails where the old one succeeded, concurrent writes resolve by the new
// resolver), also by a node that was down and comes back; bad values are
// refused with exit 2 naming them, and leave the ring as it was.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/ring_change_fixture.h"

namespace ringkv::testing {
namespace {

Json BucketAt(LocalClusterFixture& cluster, int node, const std::string& bucket) {
  return ParseJson(cluster.Admin(node, {"bucket", bucket, "--json"}));
}

// Polls node `node` until its view of `bucket` has w = `w` and `resolver`.
Json AwaitBucket(LocalClusterFixture& cluster, int node, const std::string& bucket, uint32_t w,
                 const std::string& resolver) {
  Json seen;
  PollUntil(std::chrono::seconds(20), milliseconds(100), [&] {
    seen = BucketAt(cluster, node, bucket);
    return seen["w"] == w && seen["resolver"] == resolver;
  });
  EXPECT_EQ(seen["w"], w) << seen.dump() << cluster.LogTails();
  EXPECT_EQ(seen["resolver"], resolver) << seen.dump();
  return seen;
}

// Two blind writes of `key` (no context: concurrent) through `node`; the
// values a read at R=3 answers.
std::vector<std::string> ConcurrentWrites(LocalClusterFixture& cluster, int node,
                                          const std::string& key) {
  std::unique_ptr<Client> client = ClientFor({cluster.Address(node)});
  if (client == nullptr) return {};
  EXPECT_TRUE(client->Put(kBucket, key, "first").ok());
  EXPECT_TRUE(client->Put(kBucket, key, "second").ok());
  ReadOptions r;
  r.r = 3;
  Result<GetResult> got = client->Get(kBucket, key, r);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  return got.ok() ? got->values : std::vector<std::string>{};
}

TEST_F(RingChangeTest, BucketPropertiesSetThroughOneNodeAreAppliedEverywhere) {
  LocalClusterFixture cluster(3);
  ASSERT_NO_FATAL_FAILURE(Start(cluster, FastFlags("8")));
  Preload(cluster, 10);
  const Json before = BucketAt(cluster, 2, kBucket);
  EXPECT_FALSE(before["named"].get<bool>());
  EXPECT_EQ(before["w"], 2);
  EXPECT_EQ(before["resolver"], "siblings");
  EXPECT_EQ(ConcurrentWrites(cluster, 3, "twice-before").size(), 2u);

  const Json set = ParseJson(cluster.Admin(2, {"bucket", kBucket, "--set", "w=3,resolver=lww",
                                               "--json"}));
  EXPECT_TRUE(set["named"].get<bool>());
  EXPECT_EQ(set["w"], 3);
  EXPECT_EQ(set["r"], 2);
  EXPECT_EQ(set["n"], 3);
  EXPECT_EQ(set["resolver"], "lww");
  EXPECT_GT(set["epoch"].get<uint64_t>(), before["epoch"].get<uint64_t>());
  const Json seen = AwaitBucket(cluster, 3, kBucket, 3, "lww");
  EXPECT_EQ(seen["epoch"], set["epoch"]);
  // Setting what is set makes no epoch.
  EXPECT_EQ(ParseJson(cluster.Admin(3, {"bucket", kBucket, "--set", "w=3", "--json"}))["epoch"],
            set["epoch"]);
  // Human output.
  CommandResult text = cluster.Admin(1, {"bucket", kBucket});
  EXPECT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("n=3 r=2 w=3 resolver=lww"), std::string::npos) << text.out;

  // Every coordinator resolves by the new resolver...
  EXPECT_EQ(ConcurrentWrites(cluster, 3, "twice-after"),
            std::vector<std::string>{"second"});
  // ... and needs the new w: with n2 dead, a put at the bucket's w=3 fails
  // where one at w=2 is taken.
  ASSERT_EQ(cluster.Cluster({"kill", "n2"}).exit_code, 0);
  std::unique_ptr<Client> client = ClientFor({cluster.Address(3)}, 2000);
  ASSERT_NE(client, nullptr);
  Result<PutResult> at_bucket_w = client->Put(kBucket, "w3", "v");
  EXPECT_FALSE(at_bucket_w.ok()) << "a put at w=3 with a replica dead was acknowledged";
  WriteOptions w2;
  w2.w = 2;
  Result<PutResult> at_w2 = client->Put(kBucket, "w2", "v", w2);
  EXPECT_TRUE(at_w2.ok()) << at_w2.status().ToString();

  // Bad values: exit 2, the value named, the ring unchanged.
  auto refused = [&cluster](std::vector<std::string> args, const std::string& needle) {
    CommandResult r = cluster.Admin(1, args);
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.Describe();
  };
  const std::string rc = kBucket;
  refused({"bucket", rc, "--set", "w=4"}, "w=4 exceeds the bucket's n=3");
  refused({"bucket", rc, "--set", "w=2x"}, "w: quorum must be a number");
  refused({"bucket", rc, "--set", "n=2"}, "n is 3 and cannot change");
  refused({"bucket", rc, "--set", "n=5"}, "n=5 is more than the 3 members");
  refused({"bucket", rc, "--set", "resolver=bogus"}, "unknown resolver 'bogus'");
  refused({"bucket", rc, "--set", "resolver=merge:max"}, "not a plugin loaded on the claimant");
  refused({"bucket", rc, "--set", "colour=red"}, "unknown bucket property 'colour'");
  refused({"bucket", rc, "--set", ""}, "nothing to set");
  refused({"bucket", std::string(256, 'b'), "--set", "w=1"}, "1 to 255 bytes");
  refused({"bucket", rc, "--set", std::string(300, 'w')}, "settings");
  EXPECT_EQ(cluster.Admin(1, {"bucket"}).exit_code, 2);
  CommandResult help = cluster.Admin(1, {"bucket", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.Describe();
  EXPECT_NE(help.out.find("--set"), std::string::npos) << help.out;
  EXPECT_EQ(BucketAt(cluster, 3, kBucket)["epoch"], set["epoch"]);

  // A node down while the properties changed takes them from the ring
  // when it is back, and coordinates by them.
  const Json again = ParseJson(
      cluster.Admin(3, {"bucket", kBucket, "--set", "r=one,resolver=siblings", "--json"}));
  EXPECT_EQ(again["r"], 1);
  EXPECT_EQ(again["w"], 3);
  ASSERT_EQ(cluster.Cluster({"restart", "n2"}).exit_code, 0) << cluster.LogTails();
  EXPECT_EQ(AwaitBucket(cluster, 2, kBucket, 3, "siblings")["r"], 1);
  EXPECT_EQ(ConcurrentWrites(cluster, 2, "twice-on-n2").size(), 2u);
}

}  // namespace
}  // namespace ringkv::testing
