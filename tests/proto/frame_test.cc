// Framing: partial, complete and back-to-back frames; the cap is enforced on
// the header alone; a corrupted body fails its checksum.
#include "proto/frame.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <string>

namespace ringkv {
namespace {

TEST(FrameTest, HeaderLayoutIsLittleEndian) {
  std::string out;
  AppendFrame("abc", &out);
  ASSERT_EQ(out.size(), kFrameHeaderSize + 3);
  EXPECT_EQ(out.substr(0, 4), std::string("\x03\x00\x00\x00", 4));
  uint64_t sum = XXH3_64bits("abc", 3);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(static_cast<uint8_t>(out[4 + i]), (sum >> (8 * i)) & 0xff);
  }
  EXPECT_EQ(out.substr(12), "abc");
}

TEST(FrameTest, EveryPrefixNeedsMore) {
  std::string out;
  AppendFrame("hello, frame", &out);
  for (size_t len = 0; len < out.size(); ++len) {
    FrameParse p = ParseFrame(std::string_view(out).substr(0, len));
    EXPECT_EQ(p.state, FrameParse::State::kNeedMore) << len;
  }
  FrameParse p = ParseFrame(out);
  ASSERT_EQ(p.state, FrameParse::State::kFrame);
  EXPECT_EQ(p.body, "hello, frame");
  EXPECT_EQ(p.consumed, out.size());
}

TEST(FrameTest, EmptyBodyIsAFrame) {
  std::string out;
  AppendFrame("", &out);
  FrameParse p = ParseFrame(out);
  ASSERT_EQ(p.state, FrameParse::State::kFrame);
  EXPECT_TRUE(p.body.empty());
  EXPECT_EQ(p.consumed, kFrameHeaderSize);
}

TEST(FrameTest, MultipleFramesParseInOrder) {
  std::string out;
  AppendFrame("one", &out);
  AppendFrame("", &out);
  AppendFrame(std::string(1000, 'z'), &out);
  out += "par";  // start of a fourth, incomplete frame
  std::vector<std::string> bodies;
  std::string_view rest = out;
  for (int guard = 0; guard < 10; ++guard) {
    FrameParse p = ParseFrame(rest);
    if (p.state != FrameParse::State::kFrame) {
      EXPECT_EQ(p.state, FrameParse::State::kNeedMore);
      break;
    }
    bodies.emplace_back(p.body);
    rest.remove_prefix(p.consumed);
  }
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[0], "one");
  EXPECT_EQ(bodies[1], "");
  EXPECT_EQ(bodies[2], std::string(1000, 'z'));
  EXPECT_EQ(rest, "par");
}

TEST(FrameTest, OversizedHeaderIsAnErrorWithoutTheBody) {
  // Announces 1 GiB; only the 12 header bytes are present.
  std::string header("\x00\x00\x00\x40" "01234567", 12);
  FrameParse p = ParseFrame(header);
  ASSERT_EQ(p.state, FrameParse::State::kError);
  EXPECT_TRUE(p.error.IsCorruption());
  EXPECT_NE(p.error.message().find("exceeds"), std::string::npos);
}

TEST(FrameTest, CapIsConfigurableAndInclusive) {
  std::string out;
  AppendFrame(std::string(100, 'a'), &out);
  EXPECT_EQ(ParseFrame(out, 100).state, FrameParse::State::kFrame);
  EXPECT_EQ(ParseFrame(out, 99).state, FrameParse::State::kError);
  // The cap applies before the body arrives.
  EXPECT_EQ(ParseFrame(std::string_view(out).substr(0, kFrameHeaderSize), 99).state,
            FrameParse::State::kError);
}

TEST(FrameTest, BadChecksumIsAnError) {
  std::string out;
  AppendFrame("payload", &out);
  for (size_t i = 4; i < out.size(); ++i) {
    std::string bad = out;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    FrameParse p = ParseFrame(bad);
    ASSERT_EQ(p.state, FrameParse::State::kError) << "flipped byte " << i;
    EXPECT_TRUE(p.error.IsCorruption());
  }
}

}  // namespace
}  // namespace ringkv
