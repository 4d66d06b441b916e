// The text form of contexts: base64url vectors, round trips, and refusal of
// anything that is not a context.
#include "client/context_text.h"

#include <gtest/gtest.h>

#include <random>

#include "causality/object_codec.h"

namespace ringkv {
namespace {

TEST(ContextTextTest, Rfc4648Vectors) {
  // RFC 4648 §10, without padding.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    Result<std::string> decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(ContextTextTest, UsesTheUrlAlphabetAndAcceptsPadding) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8="), "\xfb\xff");
  EXPECT_EQ(*Base64UrlDecode("Zg=="), "f");
}

TEST(ContextTextTest, RejectsMalformedText) {
  EXPECT_TRUE(Base64UrlDecode("Zm9v+").status().IsInvalidArgument());  // standard alphabet
  EXPECT_TRUE(Base64UrlDecode("Z").status().IsInvalidArgument());      // impossible length
  EXPECT_TRUE(Base64UrlDecode("Zh").status().IsInvalidArgument());     // stray low bits
  EXPECT_TRUE(Base64UrlDecode("a b").status().IsInvalidArgument());
}

TEST(ContextTextTest, RandomBytesRoundTrip) {
  std::mt19937 rng(42);
  for (int len = 0; len < 200; ++len) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(
        text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    Result<std::string> back = Base64UrlDecode(text);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, bytes);
  }
}

TEST(ContextTextTest, ContextsRoundTripThroughText) {
  VersionVector vv({{Actor{"n1", 3}, 7}, {Actor{"n2", 1}, 2}});
  const std::string bytes = EncodeContext(vv, "b", "k");
  const std::string text = ContextToText(bytes);
  Result<std::string> back = ContextFromText(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, bytes);
  Result<ClientContext> decoded = DecodeContext(*back);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->clock, vv);
  EXPECT_EQ(ContextToText(""), "");
  EXPECT_EQ(*ContextFromText(""), "");
}

TEST(ContextTextTest, TextThatIsNotAContextIsRefused) {
  EXPECT_TRUE(ContextFromText("%%%").status().IsInvalidArgument());
  // Valid base64url of bytes that are not a Cap'n Proto Context.
  EXPECT_TRUE(ContextFromText(Base64UrlEncode("hello, world")).status().IsInvalidArgument());
}

}  // namespace
}  // namespace ringkv
