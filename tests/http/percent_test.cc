#include "http/percent.h"

#include <gtest/gtest.h>

namespace ringkv::http {
namespace {

TEST(PercentTest, EveryByteRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string encoded = PercentEncode(all);
  for (char c : encoded) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '%' || c == '-' || c == '.' ||
                c == '_' || c == '~')
        << c;
  }
  Result<std::string> decoded = PercentDecode(encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, all);
}

TEST(PercentTest, PlusStaysAPlusAndLowerCaseHexDecodes) {
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  EXPECT_EQ(*PercentDecode("%2f%2F%c3%A9"), "//\xc3\xa9");
  EXPECT_EQ(PercentEncode("a/b+c%"), "a%2Fb%2Bc%25");
}

TEST(PercentTest, BadEscapesAreRefused) {
  for (const char* bad : {"%", "%2", "a%zz", "%g0", "%%", "x%2"}) {
    Result<std::string> r = PercentDecode(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
  }
}

}  // namespace
}  // namespace ringkv::http
