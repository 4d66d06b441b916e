#include "http/sibling_body.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "client/context_text.h"

namespace ringkv::http {
namespace {

Sibling Value(std::string v, uint64_t counter) {
  Sibling s;
  s.dot = Dot{Actor{"n1", 7}, counter};
  s.value = std::move(v);
  return s;
}

TEST(SiblingBodyTest, JsonCarriesEveryValueAsBase64AndTextWhenItIsUtf8) {
  Sibling text = Value("caf\xc3\xa9", 1);
  Sibling binary = Value(std::string("\xff\x00\x01", 3), 2);
  nlohmann::json j = nlohmann::json::parse(SiblingsJson({&text, &binary}, "CTX"));
  EXPECT_EQ(j["context"], "CTX");
  ASSERT_EQ(j["siblings"].size(), 2u);
  EXPECT_EQ(j["siblings"][0]["value"], "caf\xc3\xa9");
  EXPECT_EQ(j["siblings"][0]["dot"], "n1:1");
  EXPECT_FALSE(j["siblings"][1].contains("value"));
  EXPECT_EQ(*Base64UrlDecode(j["siblings"][1]["value_b64"].get<std::string>()), binary.value);
}

TEST(SiblingBodyTest, MultipartBoundaryIsInNoValue) {
  Sibling a = Value("ringkv-", 1);
  Sibling b = Value("plain", 2);
  Multipart m = SiblingsMultipart({&a, &b});
  EXPECT_EQ(a.value.find(m.boundary), std::string::npos);
  EXPECT_NE(m.body.find("\r\n\r\nringkv-\r\n--" + m.boundary), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("X-Ringkv-Dot: n1:2"), std::string::npos);
  EXPECT_EQ(m.body.substr(m.body.size() - m.boundary.size() - 6), "--" + m.boundary + "--\r\n");
}

TEST(SiblingBodyTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("ascii"));
  EXPECT_TRUE(IsValidUtf8("\xe2\x98\x83\xf0\x9f\x98\x80"));
  for (const char* bad : {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x98"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

}  // namespace
}  // namespace ringkv::http
