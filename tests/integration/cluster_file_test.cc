// The cluster file that ringkv-cluster writes and ringkv-node reads
// (docs/cluster-file.md): round trip and refusal of bad files.
#include "node/cluster_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/integration/harness.h"

namespace ringkv {
namespace {

class ClusterFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = dir_.path() + "/cluster.toml";
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }
  testing::TempDir dir_;
};

TEST_F(ClusterFileTest, RoundTrips) {
  ClusterFile file;
  file.partitions = 128;
  file.n = 3;
  file.members = {{"n1", "127.0.0.1:7101"}, {"n2", "127.0.0.1:7102"}, {"n3", "10.0.0.3:7103"}};
  file.buckets = BucketTable(BucketProps{3, 2, 2, "siblings"});
  file.buckets.Set("last", BucketProps{3, 1, 3, "lww"});
  file.buckets.Set("odd name/with spaces", BucketProps{2, 1, 1, "siblings"});
  const std::string path = dir_.path() + "/c.toml";
  ASSERT_TRUE(WriteClusterFile(path, file).ok());
  Result<ClusterFile> back = ReadClusterFile(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->partitions, 128u);
  EXPECT_EQ(back->n, 3u);
  EXPECT_EQ(back->members, file.members);
  EXPECT_EQ(back->buckets.defaults(), file.buckets.defaults());
  EXPECT_EQ(back->buckets.named(), file.buckets.named());
}

TEST_F(ClusterFileTest, ReadsTheDocumentedExample) {
  // The example of docs/cluster-file.md.
  Result<ClusterFile> file = ReadClusterFile(Write(R"(
version = 1
partitions = 64
n = 3

[bucket_defaults]
n = 3
r = 2
w = 2
resolver = "siblings"

[[member]]
id = "n1"
address = "127.0.0.1:7101"

[[member]]
id = "n2"
address = "127.0.0.1:7102"

[[member]]
id = "n3"
address = "127.0.0.1:7103"

[[bucket]]
name = "sessions"
resolver = "lww"
w = 1
)"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->members.size(), 3u);
  EXPECT_EQ(file->members[1].address, "127.0.0.1:7102");
  const BucketProps& sessions = file->buckets.Get("sessions");
  EXPECT_EQ(sessions.resolver, "lww");
  EXPECT_EQ(sessions.w, 1u);
  EXPECT_EQ(sessions.r, 2u);  // from [bucket_defaults]
  EXPECT_EQ(file->buckets.Get("anything").resolver, "siblings");
}

TEST_F(ClusterFileTest, DefaultsFollowN) {
  Result<ClusterFile> file = ReadClusterFile(Write(R"(
n = 5
[[member]]
id = "a"
address = "h:1"
)"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->partitions, 64u);
  EXPECT_EQ(file->buckets.defaults().n, 5u);
  EXPECT_EQ(file->buckets.defaults().r, 3u);
  EXPECT_EQ(file->buckets.defaults().w, 3u);
}

TEST_F(ClusterFileTest, RefusesBadFiles) {
  const std::string member = "[[member]]\nid = \"n1\"\naddress = \"127.0.0.1:7101\"\n";
  EXPECT_TRUE(ReadClusterFile(Write("partitions = 64\n")).status().IsInvalidArgument());
  const char* bad[] = {
      "partitions = 48\n",                                        // not a power of two
      "n = 0\n",                                                  // n
      "version = 2\n",                                            // future version
      "[[member]]\nid = \"n1\"\naddress = \"nope\"\n",            // bad address
      "[[member]]\nid = \"n1\"\naddress = \"127.0.0.1:7102\"\n",  // duplicate id
      "[[member]]\nid = \"n2\"\naddress = \"127.0.0.1:7101\"\n",  // duplicate address
      "[[member]]\nid = \"n2\"\naddress = \"h:1\"\nport = 3\n",   // unknown member key
      "nodes = 3\n",                                              // unknown key
      "[[bucket]]\nname = \"b\"\nr = 9\n",                        // r > n
      "[[bucket]]\nname = \"b\"\ncolour = \"red\"\n",             // unknown property
      "[[bucket]]\nr = 1\n",                                      // no name
      "[bucket_defaults]\nresolver = \"coin\"\n",                 // unknown resolver
      "[bucket_defaults]\nresolver = \"lww,n=1\"\n",              // a property in a value
      "[bucket_defaults]\n\"r=1,n\" = 1\n",                       // a property in a key
      "partitions = \"many\"\n",                                  // wrong type
      "[bucket_defaults]\nn = '2'\n",                             // n as a string
      "[bucket_defaults]\nr = '1'\n",                             // r as a string
      "[bucket_defaults]\nresolver = 1\n",                        // resolver as a number
      "partitions = 64.0\n",                                      // a float
      "version = 1.0\n",                                          // a float
      "version = 55555555555555555555.5\n",                       // beyond int64
      "[[bucket]]\nname = \"b\"\nn = 1e30\n",                     // beyond int64
      "this is not toml\n",
  };
  for (const char* text : bad) {
    Result<ClusterFile> file = ReadClusterFile(Write(std::string(text) + member));
    EXPECT_FALSE(file.ok()) << text;
    EXPECT_TRUE(file.status().IsInvalidArgument()) << text << file.status().ToString();
  }
  EXPECT_TRUE(ReadClusterFile(dir_.path() + "/missing.toml").status().IsIOError());
}

}  // namespace
}  // namespace ringkv
