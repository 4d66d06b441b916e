// The direct reader of the hot messages (proto/direct_decoder.h) against
// Cap'n Proto's: it reads every hot message the encoder writes, leaves
// every other type and shape to Cap'n Proto, and whatever it accepts,
// hostile bytes included, Cap'n Proto accepts with the same value.
#include "proto/direct_decoder.h"

#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "causality/object.capnp.h"
#include "causality/object.h"
#include "causality/object_codec.h"
#include "proto/codec.h"
#include "proto/codec_capnp.h"
#include "proto/wire.capnp.h"
#include "tests/proto/hot_messages.h"

namespace ringkv {
namespace {

using testing::HotMessages;
using testing::RandomHotMessage;
using testing::SampleObject;
using testing::With;

// The message's bytes at an odd address, as a frame body often lies.
std::string_view Unaligned(const std::string& bytes, std::string* storage) {
  *storage = "x" + bytes;
  return std::string_view(*storage).substr(1);
}

// What the direct reader accepted, Cap'n Proto must accept with the same
// value. Returns whether the direct reader took it.
bool AgreesWithCapnp(std::string_view bytes) {
  std::optional<Message> direct = DecodeDirect(bytes);
  if (!direct) return false;
  Result<Message> capnp = DecodeMessageCapnp(bytes);
  EXPECT_TRUE(capnp.ok()) << "the direct reader took what Cap'n Proto refuses: "
                          << capnp.status().ToString();
  if (capnp.ok()) {
    EXPECT_EQ(*direct, *capnp);
  }
  return true;
}

TEST(DirectDecoderTest, ReadsEveryHotMessageAsCapnpDoes) {
  for (const Message& m : HotMessages()) {
    const std::string bytes = EncodeMessageCapnp(m);
    std::string storage;
    for (std::string_view view : {std::string_view(bytes), Unaligned(bytes, &storage)}) {
      std::optional<Message> direct = DecodeDirect(view);
      ASSERT_TRUE(direct.has_value()) << MessageName(m.body);
      EXPECT_EQ(*direct, m) << MessageName(m.body);
      Result<Message> capnp = DecodeMessageCapnp(view);
      ASSERT_TRUE(capnp.ok()) << capnp.status().ToString();
      EXPECT_EQ(*direct, *capnp);
    }
  }
}

TEST(DirectDecoderTest, LeavesOtherTypesToCapnp) {
  for (MessageBody body : {MessageBody(Ping{}), MessageBody(Pong{"n1"}),
                           MessageBody(ErrorReply{Status::Timeout("late")}),
                           MessageBody(Gossip{7, {{"n1", 3, 99, 1}}, "ring"}),
                           MessageBody(AaeRootRequest{5, 1, 1, 9})}) {
    const Message m = With(body);
    const std::string bytes = EncodeMessageCapnp(m);
    EXPECT_FALSE(DecodeDirect(bytes).has_value()) << MessageName(m.body);
    Result<Message> decoded = DecodeMessage(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, m);
  }
}

// The offsets the reader hard-codes (direct_decoder.cc's layout comment),
// checked against the compiled schemas: a schema change that moves a field
// fails here, not on the wire.
template <typename T>
void ExpectField(const char* name, unsigned offset) {
  auto field = capnp::Schema::from<T>().getFieldByName(name).getProto();
  ASSERT_TRUE(field.isSlot()) << name;
  EXPECT_EQ(field.getSlot().getOffset(), offset) << name;
}

template <typename T>
void ExpectSize(unsigned data_words, unsigned pointers) {
  auto node = capnp::Schema::from<T>().getProto().getStruct();
  EXPECT_EQ(node.getDataWordCount(), data_words);
  EXPECT_EQ(node.getPointerCount(), pointers);
}

TEST(DirectDecoderTest, LayoutMatchesTheSchemas) {
  auto envelope = capnp::Schema::from<schema::Envelope>();
  EXPECT_EQ(envelope.getProto().getStruct().getDiscriminantOffset(), 1u);  // bits 16-32
  const std::pair<const char*, unsigned> tags[] = {
      {"get", 2},        {"getReply", 3},        {"put", 4},        {"putReply", 5},
      {"replicaGet", 6}, {"replicaGetReply", 7}, {"replicaPut", 8}, {"replicaPutReply", 9}};
  for (const auto& [name, tag] : tags) {
    auto field = envelope.getFieldByName(name).getProto();
    EXPECT_EQ(field.getDiscriminantValue(), tag) << name;
    EXPECT_EQ(field.getSlot().getOffset(), 1u) << name;  // pointer 1
  }
  ExpectField<schema::Envelope>("version", 0);       // u16 0
  ExpectField<schema::Envelope>("timeoutMs", 1);     // u32 1: bits 32-64
  ExpectField<schema::Envelope>("requestId", 1);     // word 1
  ExpectField<schema::Envelope>("senderGeneration", 2);
  ExpectField<schema::Envelope>("sentMonoUs", 3);
  ExpectField<schema::Envelope>("from", 0);
  ExpectField<schema::Envelope>("authToken", 2);
  ExpectField<schema::GetRequest>("r", 0);
  ExpectField<schema::GetRequest>("pr", 1);
  ExpectField<schema::GetRequest>("bucket", 0);
  ExpectField<schema::GetRequest>("key", 1);
  ExpectField<schema::PutRequest>("tombstone", 0);
  ExpectField<schema::PutRequest>("forwarded", 1);
  ExpectField<schema::PutRequest>("ifMatch", 2);
  ExpectField<schema::PutRequest>("w", 1);
  ExpectField<schema::PutRequest>("pw", 2);
  ExpectField<schema::PutRequest>("timestampUs", 2);
  ExpectField<schema::PutRequest>("writeIdHi", 3);
  ExpectField<schema::PutRequest>("writeIdLo", 4);
  ExpectField<schema::PutRequest>("bucket", 0);
  ExpectField<schema::PutRequest>("key", 1);
  ExpectField<schema::PutRequest>("value", 2);
  ExpectField<schema::PutRequest>("context", 3);
  ExpectField<schema::GetReply>("found", 0);
  ExpectField<schema::GetReply>("status", 0);
  ExpectField<schema::GetReply>("object", 1);
  ExpectField<schema::ReplicaGetReply>("found", 0);
  ExpectField<schema::ReplicaGetReply>("status", 0);
  ExpectField<schema::ReplicaGetReply>("object", 1);
  ExpectField<schema::PutReply>("status", 0);
  ExpectField<schema::PutReply>("object", 1);
  ExpectField<schema::ReplicaGetRequest>("bucket", 0);
  ExpectField<schema::ReplicaGetRequest>("key", 1);
  ExpectField<schema::ReplicaPutRequest>("bucket", 0);
  ExpectField<schema::ReplicaPutRequest>("key", 1);
  ExpectField<schema::ReplicaPutRequest>("object", 2);
  ExpectField<schema::ReplicaPutRequest>("hintFor", 3);
  ExpectField<schema::ReplicaPutRequest>("handoff", 0);
  ExpectField<schema::ReplicaPutReply>("status", 0);
  ExpectField<schema::ReplyStatus>("code", 0);
  ExpectField<schema::ReplyStatus>("message", 0);
  ExpectField<schema::Object>("version", 0);
  ExpectField<schema::Object>("context", 0);
  ExpectField<schema::Object>("siblings", 1);
  ExpectField<schema::VvEntry>("actor", 0);
  ExpectField<schema::VvEntry>("counter", 0);
  ExpectField<schema::Actor>("node", 0);
  ExpectField<schema::Actor>("incarnation", 0);
  ExpectField<schema::Sibling>("actor", 0);
  ExpectField<schema::Sibling>("value", 1);
  ExpectField<schema::Sibling>("counter", 0);
  ExpectField<schema::Sibling>("timestampUs", 1);
  ExpectField<schema::Sibling>("tombstone", 128);
  ExpectField<schema::Sibling>("writeIdHi", 3);
  ExpectField<schema::Sibling>("writeIdLo", 4);
  ExpectSize<schema::Envelope>(4, 3);
  ExpectSize<schema::PutRequest>(5, 4);
  ExpectSize<schema::Sibling>(5, 2);
}

std::string Flat(capnp::MessageBuilder& b) {
  auto words = capnp::messageToFlatArray(b);
  return std::string(words.asChars().begin(), words.asChars().size());
}

TEST(DirectDecoderTest, LeavesSeveralSegmentsToCapnp) {
  // A first segment too small for the object: Cap'n Proto's builder goes
  // on in a second segment, reached through a far pointer.
  capnp::MallocMessageBuilder b(8, capnp::AllocationStrategy::FIXED_SIZE);
  auto env = b.initRoot<schema::Envelope>();
  env.setRequestId(5);
  auto put = env.initReplicaPut();
  put.setBucket(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("b"), 1));
  put.setKey(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("k"), 1));
  ObjectToCapnp(SampleObject(), put.initObject());
  ASSERT_GT(b.getSegmentsForOutput().size(), 1u);
  const std::string bytes = Flat(b);
  EXPECT_FALSE(DecodeDirect(bytes).has_value());
  Result<Message> decoded = DecodeMessage(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(std::get<ReplicaPutRequest>(decoded->body).object, SampleObject());
}

TEST(DirectDecoderTest, LeavesRefusedValuesToCapnp) {
  // Each is well-formed Cap'n Proto that the codec refuses: the direct
  // reader leaves it, and DecodeMessage answers Cap'n Proto's Corruption.
  auto replica_put = [](auto edit) {
    capnp::MallocMessageBuilder b;
    auto env = b.initRoot<schema::Envelope>();
    auto put = env.initReplicaPut();
    ObjectToCapnp(SampleObject(), put.initObject());
    edit(env, put.getObject());
    return Flat(b);
  };
  const std::string cases[] = {
      replica_put([](auto env, auto) { env.setVersion(2); }),
      replica_put([](auto, auto object) { object.setVersion(3); }),
      replica_put([](auto, auto object) { object.getContext()[0].setCounter(0); }),
      replica_put([](auto, auto object) {
        // Unsorted clock: the first entry's actor after the second's.
        object.getContext()[0].getActor().setNode("zz");
      }),
      replica_put([](auto, auto object) {
        // A sibling whose dot the context does not cover.
        object.getSiblings()[0].setCounter(1000);
      }),
  };
  for (const std::string& bytes : cases) {
    EXPECT_FALSE(DecodeDirect(bytes).has_value());
    Result<Message> decoded = DecodeMessage(bytes);
    EXPECT_TRUE(decoded.status().IsCorruption()) << decoded.status().ToString();
  }
}

// A ReplicaPutRequest's bytes and the word index (in the segment, after the
// 8-byte table) of its first sibling's value pointer.
std::string WithForgedWord(size_t word, uint64_t value) {
  std::string bytes = EncodeMessageCapnp(With(ReplicaPutRequest{"b", "k", SampleObject(), {}}));
  std::memcpy(&bytes[8 + 8 * word], &value, 8);
  return bytes;
}

TEST(DirectDecoderTest, ForgedPointersAndLengthsAreLeftToCapnpWhichRefusesThem) {
  const std::string good = EncodeMessageCapnp(With(ReplicaPutRequest{"b", "k", SampleObject(), {}}));
  const size_t words = good.size() / 8 - 1;
  // Every word of the segment in turn overwritten with a list pointer to
  // a huge byte list, a huge struct list, a far pointer, a capability, and
  // a struct pointer running past the end: the direct reader takes none of
  // them unless that word was never read (then both agree).
  const uint64_t forged[] = {
      1 | (uint64_t{2} << 32) | (uint64_t{0x1fffffff} << 35),  // byte list of 512 MiB
      1 | (uint64_t{7} << 32) | (uint64_t{0x1fffffff} << 35),  // struct list, huge word count
      2 | (uint64_t{0} << 3),                                  // far pointer
      3,                                                       // capability
      0 | (uint64_t{0xffff} << 32) | (uint64_t{0xffff} << 48), // struct of 128K words
      0 | (uint64_t{0x7ffffff0} << 0) | (uint64_t{1} << 32),   // struct far past the end
      0 | (uint64_t{static_cast<uint32_t>(-1000 << 2)}) | (uint64_t{1} << 32),  // before the start
  };
  for (size_t w = 0; w < words; ++w) {
    for (uint64_t value : forged) AgreesWithCapnp(WithForgedWord(w, value));
  }
  // The segment table's size and count, forged.
  for (uint64_t head : {uint64_t{1}, uint64_t{words + 1} << 32, uint64_t{words - 1} << 32,
                        uint64_t{0xffffffff} << 32}) {
    std::string bytes = good;
    std::memcpy(&bytes[0], &head, 8);
    EXPECT_FALSE(DecodeDirect(bytes).has_value());
    EXPECT_FALSE(DecodeMessage(bytes).ok());
  }
}

TEST(DirectDecoderTest, AmplifiedReadsAreLeftToCapnp) {
  // A replica put whose bucket points at the bytes of a sibling's value:
  // each pointer is in bounds, but those words are read twice, which a
  // message written once never needs.
  capnp::MallocMessageBuilder b;
  auto env = b.initRoot<schema::Envelope>();
  auto put = env.initReplicaPut();
  ObjectToCapnp(SampleObject(), put.initObject());
  std::string forged = Flat(b);
  auto word = [&](size_t at) {  // segment word `at`, after the 8-byte table
    uint64_t p;
    std::memcpy(&p, &forged[8 + 8 * at], 8);
    return p;
  };
  auto target = [&](size_t at) {
    return static_cast<int64_t>(at) + 1 + (static_cast<int32_t>(static_cast<uint32_t>(word(at))) >> 2);
  };
  // The 300-byte value's pointer, found by its kind and length.
  std::vector<size_t> value_pointers;
  for (size_t w = 0; w < forged.size() / 8 - 1; ++w) {
    const uint64_t p = word(w);
    if ((p & 3) == 1 && ((p >> 32) & 7) == 2 && (p >> 35) == 300) value_pointers.push_back(w);
  }
  ASSERT_EQ(value_pointers.size(), 1u);
  const int64_t value = target(value_pointers[0]);
  // The envelope is word 1 (after the root pointer); its pointer 1, the
  // body, is word 1 + 4 data words + 1; the body's pointer 0, the bucket,
  // follows its one data word.
  const size_t bucket_at = static_cast<size_t>(target(6)) + 1;
  const uint64_t bucket_ptr =
      1 | uint64_t{static_cast<uint32_t>((value - static_cast<int64_t>(bucket_at) - 1) * 4)} |
      (uint64_t{2} << 32) | (uint64_t{300} << 35);
  std::memcpy(&forged[8 + 8 * bucket_at], &bucket_ptr, 8);
  EXPECT_FALSE(DecodeDirect(forged).has_value());
  // Cap'n Proto's limit allows this much (it is the judge): same value.
  Result<Message> decoded = DecodeMessage(forged);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(std::get<ReplicaPutRequest>(decoded->body).bucket, std::string(300, 'x'));
}

TEST(DirectDecoderTest, EveryTruncationAndBitFlipAgreesWithCapnp) {
  for (const Message& m : HotMessages()) {
    const std::string bytes = EncodeMessageCapnp(m);
    for (size_t len = 0; len < bytes.size(); len += 8) {
      EXPECT_FALSE(DecodeDirect(bytes.substr(0, len)).has_value());
    }
    if (bytes.size() > 2048) continue;  // the 10 KB put: its value's bits are all data
    for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
      std::string flipped = bytes;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      AgreesWithCapnp(flipped);
    }
  }
}

TEST(DirectDecoderTest, RandomWordsAgreeWithCapnp) {
  std::mt19937_64 random(16);
  for (const Message& m : HotMessages()) {
    const std::string bytes = EncodeMessageCapnp(m);
    const size_t words = bytes.size() / 8;
    for (int round = 0; round < 2000; ++round) {
      std::string forged = bytes;
      for (int k = 0; k < 3; ++k) {
        const size_t w = 1 + random() % (words - 1);
        const uint64_t v = random();
        std::memcpy(&forged[8 * w], &v, 8);
      }
      AgreesWithCapnp(forged);
    }
  }
}

RC_GTEST_PROP(DirectDecoderProperty, HotMessagesRoundTrip, ()) {
  const Message m = RandomHotMessage();
  const std::string bytes = EncodeMessageCapnp(m);
  std::optional<Message> direct = DecodeDirect(bytes);
  RC_ASSERT(direct.has_value());
  RC_ASSERT(*direct == m);
}

}  // namespace
}  // namespace ringkv
