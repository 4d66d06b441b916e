// The direct writer of the hot messages (proto/direct_encoder.h): both
// readers, Cap'n Proto's and the direct one, read from its bytes exactly
// the message it was given; other types are left to Cap'n Proto's builder.
#include "proto/direct_encoder.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <string>

#include "proto/codec.h"
#include "proto/codec_capnp.h"
#include "proto/direct_decoder.h"
#include "tests/proto/hot_messages.h"

namespace ringkv {
namespace {

using testing::HotMessages;
using testing::RandomHotMessage;
using testing::SampleObject;
using testing::With;

TEST(DirectEncoderTest, BothReadersReadEveryHotMessageAsWritten) {
  for (const Message& m : HotMessages()) {
    std::optional<std::string> bytes = EncodeDirect(m);
    ASSERT_TRUE(bytes.has_value()) << MessageName(m.body);
    EXPECT_EQ(bytes->size() % 8, 0u);
    Result<Message> capnp = DecodeMessageCapnp(*bytes);
    ASSERT_TRUE(capnp.ok()) << MessageName(m.body) << ": " << capnp.status().ToString();
    EXPECT_EQ(*capnp, m) << MessageName(m.body);
    std::optional<Message> direct = DecodeDirect(*bytes);
    ASSERT_TRUE(direct.has_value()) << MessageName(m.body);
    EXPECT_EQ(*direct, m) << MessageName(m.body);
    EXPECT_EQ(EncodeMessage(m), *bytes);
  }
}

TEST(DirectEncoderTest, ShapesTheCanonicalWriterLeavesRoundTrip) {
  // Empty node names and values, zero incarnations and timestamps, which
  // the canonical writer leaves to Cap'n Proto: they travel as they are.
  Object odd;
  odd.context = VersionVector({{Actor{"", 0}, 1}, {Actor{"n1", 0}, 5}});
  odd.siblings.push_back(Sibling{Dot{Actor{"", 0}, 1}, 0, false, "", {}});
  odd.siblings.push_back(Sibling{Dot{Actor{"n1", 0}, 5}, -1, true, "", {0, 1}});
  ASSERT_EQ(CheckInvariants(odd), "");
  for (const Message& m :
       {With(ReplicaPutRequest{"", "", odd, {}}), With(PutReply{Status::OK(), odd}),
        With(ReplicaGetReply{Status::Internal(std::string(1000, 'e')), true, odd})}) {
    std::optional<std::string> bytes = EncodeDirect(m);
    ASSERT_TRUE(bytes.has_value());
    Result<Message> capnp = DecodeMessageCapnp(*bytes);
    ASSERT_TRUE(capnp.ok()) << capnp.status().ToString();
    EXPECT_EQ(*capnp, m);
    std::optional<Message> direct = DecodeDirect(*bytes);
    ASSERT_TRUE(direct.has_value());
    EXPECT_EQ(*direct, m);
  }
}

TEST(DirectEncoderTest, LeavesOtherTypesToCapnp) {
  for (MessageBody body : {MessageBody(Ping{}), MessageBody(Pong{"n1"}),
                           MessageBody(ErrorReply{Status::Timeout("late")}),
                           MessageBody(Gossip{7, {{"n1", 3, 99, 1}}, "ring"})}) {
    const Message m = With(body);
    EXPECT_FALSE(EncodeDirect(m).has_value()) << MessageName(m.body);
    EXPECT_EQ(EncodeMessage(m), EncodeMessageCapnp(m));
  }
}

RC_GTEST_PROP(DirectEncoderProperty, BothReadersReadWhatWasWritten, ()) {
  const Message m = RandomHotMessage();
  std::optional<std::string> bytes = EncodeDirect(m);
  RC_ASSERT(bytes.has_value());
  Result<Message> capnp = DecodeMessageCapnp(*bytes);
  RC_ASSERT(capnp.ok());
  RC_ASSERT(*capnp == m);
  std::optional<Message> direct = DecodeDirect(*bytes);
  RC_ASSERT(direct.has_value());
  RC_ASSERT(*direct == m);
}

}  // namespace
}  // namespace ringkv
