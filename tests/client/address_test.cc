// Node addresses as the client and the CLI take them.
#include "client/address.h"

#include <gtest/gtest.h>

namespace ringkv {
namespace {

TEST(AddressTest, ParsesHostAndPort) {
  Result<HostPort> a = ParseAddress("127.0.0.1:7101");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7101);
  Result<HostPort> v6 = ParseAddress("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 80);
  EXPECT_EQ(ParseAddress("db.example:65535")->port, 65535);
}

TEST(AddressTest, RejectsMalformedAddresses) {
  for (const char* bad :
       {"", "host", "host:", ":7101", "host:0", "host:65536", "host:7x", "host:-1", "host: 1"}) {
    EXPECT_TRUE(ParseAddress(bad).status().IsInvalidArgument()) << bad;
  }
}

TEST(AddressTest, SplitsRepeatedAndCommaSeparatedLists) {
  Result<std::vector<std::string>> list = SplitAddressList({"a:1,b:2", "c:3", ",d:4,"});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"a:1", "b:2", "c:3", "d:4"}));
  EXPECT_TRUE(SplitAddressList({"a:1,b"}).status().IsInvalidArgument());
  EXPECT_TRUE(SplitAddressList({})->empty());
}

}  // namespace
}  // namespace ringkv
