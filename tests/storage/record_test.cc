// Record envelope: round trip and detection of every kind of damage.
#include "storage/record.h"

#include <gtest/gtest.h>

#include <string>

namespace ringkv {
namespace {

TEST(RecordTest, LayoutAndRoundTrip) {
  for (const std::string& body : {std::string(), std::string("hello"), std::string(70000, '\0')}) {
    const std::string rec = EncodeRecord(body);
    ASSERT_EQ(rec.size(), kRecordHeaderSize + body.size());
    EXPECT_EQ(rec[0], 1);
    Result<std::string_view> got = DecodeRecord(rec);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, body);
  }
}

TEST(RecordTest, ChecksumIsLittleEndianXxh3) {
  // XXH3-64 of the empty string with seed 0 is 0x2d06800538d394c2.
  EXPECT_EQ(EncodeRecord(""), std::string("\x01\xc2\x94\xd3\x38\x05\x80\x06\x2d", 9));
}

TEST(RecordTest, ShortInputIsCorruption) {
  const std::string rec = EncodeRecord("body");
  for (size_t len = 0; len < kRecordHeaderSize; ++len) {
    EXPECT_TRUE(DecodeRecord(std::string_view(rec).substr(0, len)).status().IsCorruption()) << len;
  }
  // Truncating the body breaks the checksum.
  EXPECT_TRUE(DecodeRecord(std::string_view(rec).substr(0, rec.size() - 1)).status().IsCorruption());
}

TEST(RecordTest, UnknownVersionIsCorruption) {
  std::string rec = EncodeRecord("body");
  rec[0] = 2;
  EXPECT_TRUE(DecodeRecord(rec).status().IsCorruption());
}

TEST(RecordTest, EverySingleBitFlipIsDetected) {
  const std::string rec = EncodeRecord(std::string("a canonical object body \0\x01\x02\xff", 28));
  for (size_t byte = 0; byte < rec.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = rec;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      EXPECT_TRUE(DecodeRecord(bad).status().IsCorruption()) << byte << ":" << bit;
    }
  }
}

}  // namespace
}  // namespace ringkv
