// Address lists as the client and the CLI take them; one address is
// tests/common/host_port_test.cc.
#include "client/address.h"

#include <gtest/gtest.h>

namespace ringkv {
namespace {

TEST(AddressTest, SplitsRepeatedAndCommaSeparatedLists) {
  Result<std::vector<std::string>> list = SplitAddressList({"a:1,b:2", "c:3", ",d:4,"});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"a:1", "b:2", "c:3", "d:4"}));
  EXPECT_TRUE(SplitAddressList({"a:1,b"}).status().IsInvalidArgument());
  EXPECT_TRUE(SplitAddressList({})->empty());
}

}  // namespace
}  // namespace ringkv
