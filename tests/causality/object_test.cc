// Unit tests for the object model: every test vector of causality.md §3,
// last-write-wins, and the canonical codec.
#include <gtest/gtest.h>

#include <capnp/message.h>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <vector>

#include "causality/object.h"
#include "causality/object_codec.h"
#include "common/hash.h"
#include "tests/causality/object_test_util.h"

namespace ringkv {
namespace {

const Actor A{"A", 1};
const Actor B{"B", 1};

// Frequently used states of §3.
Object V1() { return Put({}, {}, "v1", A); }                    // #1
Object V2() { return Put(V1(), {}, "v2", A); }                  // #2
Object R1() { return Compact({{A, 1, {"v1"}}}); }
Object R2() { return Put(R1(), Vv({{A, 1}}), "v2", A); }
Object RB() { return Put(R1(), Vv({{A, 1}}), "v3", B); }

TEST(CausalityVectors, V01FreshWrite) {
  Object s = V1();
  EXPECT_EQ(s, Compact({{A, 1, {"v1"}}}));
  EXPECT_EQ(s.context, Vv({{A, 1}}));
}

TEST(CausalityVectors, V02BlindWritesSameCoordinator) {
  Object s = V2();
  EXPECT_EQ(s, Compact({{A, 2, {"v2", "v1"}}}));
  ASSERT_EQ(s.siblings.size(), 2u);
  EXPECT_EQ(s.siblings[0].dot, (Dot{A, 1}));
  EXPECT_EQ(s.siblings[1].dot, (Dot{A, 2}));
}

TEST(CausalityVectors, V03BlindWritesDifferentCoordinators) {
  Object s = Sync(Put({}, {}, "v1", A), Put({}, {}, "v2", B));
  EXPECT_EQ(s, Compact({{A, 1, {"v1"}}, {B, 1, {"v2"}}}));
  EXPECT_EQ(s.context, Vv({{A, 1}, {B, 1}}));
}

TEST(CausalityVectors, V04aFullContextCollapsesSiblings) {
  EXPECT_EQ(Put(V2(), Vv({{A, 2}}), "v3", A), Compact({{A, 3, {"v3"}}}));
}

TEST(CausalityVectors, V04bFullContextOtherCoordinator) {
  EXPECT_EQ(Put(V2(), Vv({{A, 2}}), "v3", B), Compact({{A, 2, {}}, {B, 1, {"v3"}}}));
}

TEST(CausalityVectors, V05StaleContextKeepsNewerSibling) {
  EXPECT_EQ(Put(V2(), Vv({{A, 1}}), "v3", A), Compact({{A, 3, {"v3", "v2"}}}));
}

TEST(CausalityVectors, V06Idempotence) { EXPECT_EQ(Sync(V2(), V2()), V2()); }

TEST(CausalityVectors, V07OneDominates) {
  EXPECT_EQ(R2(), Compact({{A, 2, {"v2"}}}));
  EXPECT_EQ(Sync(R1(), R2()), Compact({{A, 2, {"v2"}}}));
  EXPECT_EQ(Sync(R2(), R1()), Compact({{A, 2, {"v2"}}}));
}

TEST(CausalityVectors, V08Concurrent) {
  EXPECT_EQ(RB(), Compact({{A, 1, {}}, {B, 1, {"v3"}}}));
  Object want = Compact({{A, 2, {"v2"}}, {B, 1, {"v3"}}});
  EXPECT_EQ(Sync(R2(), RB()), want);
  EXPECT_EQ(Sync(RB(), R2()), want);
}

TEST(CausalityVectors, V09PartialOverlapSameActor) {
  Object want = Compact({{A, 2, {"v2"}}, {B, 1, {"v3"}}});
  EXPECT_EQ(Sync(V2(), RB()), want);
  EXPECT_EQ(Sync(RB(), V2()), want);
}

TEST(CausalityVectors, V10CommutativityAndAssociativity) {
  Object want = Compact({{A, 2, {"v2"}}, {B, 1, {"v3"}}});
  std::array<Object, 3> states = {V2(), RB(), R1()};
  std::array<int, 3> order = {0, 1, 2};
  int permutations = 0;
  do {
    const Object& x = states[order[0]];
    const Object& y = states[order[1]];
    const Object& z = states[order[2]];
    EXPECT_EQ(Sync(Sync(x, y), z), want);
    EXPECT_EQ(Sync(x, Sync(y, z)), want);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 6);
}

TEST(CausalityVectors, V11aDeleteWinsOverOlderReplica) {
  Object d = Put(R2(), Vv({{A, 2}}), kTomb, A);
  Object want = Compact({{A, 3, {kTomb}}});
  EXPECT_EQ(d, want);
  for (const Object& s : {Sync(d, R1()), Sync(R1(), d)}) {
    EXPECT_EQ(s, want);
    EXPECT_TRUE(s.IsDeleted());
    EXPECT_TRUE(s.Values().empty());
    EXPECT_EQ(s.context, Vv({{A, 3}}));
  }
}

TEST(CausalityVectors, V11bDeleteCoordinatedOnStaleReplica) {
  Object x = Put(R1(), Vv({{A, 2}}), kTomb, B);
  Object want = Compact({{A, 2, {}}, {B, 1, {kTomb}}});
  EXPECT_EQ(x, want);
  EXPECT_EQ(Sync(x, R2()), want);
  EXPECT_EQ(Sync(R2(), x), want);
  EXPECT_TRUE(Sync(x, R2()).IsDeleted());
}

TEST(CausalityVectors, V12DeleteConcurrentWithWrite) {
  Object del = Put(R1(), Vv({{A, 1}}), kTomb, A);
  Object write = Put(R1(), Vv({{A, 1}}), "v2", B);
  Object merged = Sync(del, write);
  EXPECT_EQ(merged, Compact({{A, 2, {kTomb}}, {B, 1, {"v2"}}}));
  EXPECT_EQ(Sync(write, del), merged);
  EXPECT_FALSE(merged.IsDeleted());
  ASSERT_EQ(merged.Values().size(), 1u);
  EXPECT_EQ(merged.Values()[0]->value, "v2");
  EXPECT_EQ(merged.siblings.size(), 2u);
  EXPECT_EQ(Put(merged, Vv({{A, 2}, {B, 1}}), "v3", A),
            Compact({{A, 3, {"v3"}}, {B, 1, {}}}));
}

TEST(CausalityVectors, V13Kv679NewIncarnation) {
  const Actor a1{"A", 1};
  const Actor a2{"A", 2};
  Object at_b = Compact({{a1, 3, {"v3"}}});
  // The hazard: reusing the actor after data loss silently loses w.
  Object reused = Put({}, {}, "w", a1);
  EXPECT_EQ(reused, Compact({{a1, 1, {"w"}}}));
  EXPECT_EQ(Sync(at_b, reused), Compact({{a1, 3, {"v3"}}}));
  // A new incarnation keeps both.
  Object fresh = Put({}, {}, "w", a2);
  EXPECT_EQ(Sync(at_b, fresh), Compact({{a1, 3, {"v3"}}, {a2, 1, {"w"}}}));
  EXPECT_EQ(Sync(fresh, at_b), Compact({{a1, 3, {"v3"}}, {a2, 1, {"w"}}}));
  // With the context it read, the new write supersedes v3.
  Object with_ctx = Put({}, Vv({{a1, 3}}), "w", a2);
  EXPECT_EQ(with_ctx, Compact({{a1, 3, {}}, {a2, 1, {"w"}}}));
  EXPECT_EQ(Sync(at_b, with_ctx), Compact({{a1, 3, {}}, {a2, 1, {"w"}}}));
}

TEST(CausalityVectors, V14DoomstoneIncarnationDoesNotFix) {
  const Actor a1{"A", 1};
  Object fallback = Compact({{a1, 4, {kTomb}}});
  Object primary = Put({}, {}, "jon", a1);
  EXPECT_EQ(primary, Compact({{a1, 1, {"jon"}}}));
  // jon is lost: this is why ringkv needs the §4 key-epoch rule.
  EXPECT_EQ(Sync(primary, fallback), fallback);
  EXPECT_EQ(Sync(fallback, primary), fallback);
}

TEST(CausalityVectors, V15DotCollisionKeepsBothDeterministically) {
  Object x = Compact({{A, 1, {"x"}}});
  Object y = Compact({{A, 1, {"y"}}});
  Object xy = Sync(x, y);
  EXPECT_EQ(xy, Sync(y, x));
  ASSERT_EQ(xy.siblings.size(), 2u);
  EXPECT_EQ(xy.siblings[0].value, "x");
  EXPECT_EQ(xy.siblings[1].value, "y");
  EXPECT_EQ(xy.context, Vv({{A, 1}}));
  EXPECT_EQ(CheckInvariants(xy), "");
  EXPECT_EQ(Sync(xy, x), xy);
  EXPECT_EQ(Sync(xy, xy), xy);
}

// causality.md §4 (riak_kv#746): two clients doing interleaved
// read-modify-write through one coordinator keep exactly two siblings.
TEST(CausalityVectors, NoSiblingExplosion) {
  Object s;
  std::array<VersionVector, 2> client_ctx;
  for (int i = 0; i < 10; ++i) {
    VersionVector& ctx = client_ctx[i % 2];
    s = Put(s, ctx, "w" + std::to_string(i), A);
    ctx = s.context;
  }
  EXPECT_EQ(s, Compact({{A, 10, {"w9", "w8"}}}));
}

TEST(VersionVectorTest, ConstructorSortsDedupsAndDropsZeros) {
  VersionVector vv({{B, 2}, {A, 0}, {A, 3}, {B, 5}});
  ASSERT_EQ(vv.entries().size(), 2u);
  EXPECT_EQ(vv.entries()[0], (VersionVector::Entry{A, 3}));
  EXPECT_EQ(vv.entries()[1], (VersionVector::Entry{B, 5}));
  EXPECT_EQ(vv, Vv({{A, 3}, {B, 5}}));
}

// The constructor takes entries that are already normal as they are; the
// near-normal shapes must still be normalized.
TEST(VersionVectorTest, ConstructorKeepsNormalEntriesAndNormalizesTheRest) {
  EXPECT_EQ(VersionVector({{A, 3}, {B, 5}}).entries(),
            (std::vector<VersionVector::Entry>{{A, 3}, {B, 5}}));
  EXPECT_TRUE(VersionVector(std::vector<VersionVector::Entry>{}).empty());
  EXPECT_EQ(VersionVector({{A, 3}, {A, 5}}), Vv({{A, 5}}));
  EXPECT_EQ(VersionVector({{B, 5}, {A, 3}}), Vv({{A, 3}, {B, 5}}));
  EXPECT_EQ(VersionVector({{A, 3}, {B, 0}}), Vv({{A, 3}}));
  EXPECT_EQ(VersionVector({{A, 0}}), VersionVector());
}

TEST(VersionVectorTest, SetGetCoversDescendsMerge) {
  VersionVector vv;
  vv.Set(B, 2);
  vv.Set(A, 1);
  EXPECT_EQ(vv, Vv({{A, 1}, {B, 2}}));
  EXPECT_EQ(vv.Get(Actor{"C", 1}), 0u);
  EXPECT_TRUE(vv.Covers(Dot{B, 2}));
  EXPECT_FALSE(vv.Covers(Dot{B, 3}));
  EXPECT_FALSE(vv.Covers(Dot{Actor{"B", 2}, 1}));
  EXPECT_TRUE(vv.Descends(Vv({{B, 1}})));
  EXPECT_FALSE(vv.Descends(Vv({{Actor{"C", 1}, 1}})));
  vv.MergeFrom(Vv({{A, 4}, {Actor{"C", 1}, 1}}));
  EXPECT_EQ(vv, Vv({{A, 4}, {B, 2}, {Actor{"C", 1}, 1}}));
  vv.Set(B, 0);
  EXPECT_EQ(vv, Vv({{A, 4}, {Actor{"C", 1}, 1}}));
}

TEST(ObjectTest, TombstoneDropsValueAndDeletedWhenEmpty) {
  Object empty;
  EXPECT_TRUE(empty.IsDeleted());
  Object s = Update({}, {}, A, 7, /*tombstone=*/true, "ignored");
  ASSERT_EQ(s.siblings.size(), 1u);
  EXPECT_TRUE(s.siblings[0].value.empty());
  EXPECT_EQ(s.siblings[0].timestamp_us, 7);
  EXPECT_EQ(CheckInvariants(s), "");
}

TEST(ObjectTest, DiscardRemovesExactlyCoveredDots) {
  Object s = Sync(V2(), RB());  // (A,2)=v2, (B,1)=v3
  EXPECT_EQ(Discard(s, Vv({{B, 1}})), (Object{s.context, {s.siblings[0]}}));
  EXPECT_EQ(Discard(s, Vv({{A, 1}})), s);
  EXPECT_TRUE(Discard(s, s.context).siblings.empty());
  EXPECT_EQ(Discard(s, s.context).context, s.context);
}

// ---- Last-write-wins ----

Object TwoSiblings(int64_t ts_a, int64_t ts_b) {
  Object s = Update({}, {}, A, ts_a, false, "from-a");
  return Sync(s, Update({}, {}, B, ts_b, false, "from-b"));
}

TEST(LwwTest, HighestTimestampWins) {
  Object r = ResolveLww(TwoSiblings(200, 100));
  ASSERT_EQ(r.siblings.size(), 1u);
  EXPECT_EQ(r.siblings[0].value, "from-a");
  r = ResolveLww(TwoSiblings(100, 200));
  ASSERT_EQ(r.siblings.size(), 1u);
  EXPECT_EQ(r.siblings[0].value, "from-b");
}

TEST(LwwTest, NodeIdBreaksTies) {
  Object r = ResolveLww(TwoSiblings(100, 100));
  ASSERT_EQ(r.siblings.size(), 1u);
  EXPECT_EQ(r.siblings[0].dot.actor, B);  // "B" > "A"
}

TEST(LwwTest, TombstoneCanWin) {
  Object s = Sync(Update({}, {}, A, 100, false, "v"), Update({}, {}, B, 300, true, ""));
  Object r = ResolveLww(s);
  EXPECT_TRUE(r.IsDeleted());
}

TEST(LwwTest, ContextKeptSoLosersStayDead) {
  Object both = TwoSiblings(200, 100);
  Object r = ResolveLww(both);
  EXPECT_EQ(r.context, both.context);
  // The loser's replica syncing back does not resurrect it.
  Object loser = Update({}, {}, B, 100, false, "from-b");
  EXPECT_EQ(Sync(r, loser), r);
  EXPECT_EQ(Sync(loser, r), r);
}

TEST(LwwTest, CommutesWithSync) {
  Object a = Update({}, {}, A, 5, false, "a");
  Object b = Update({}, {}, B, 5, false, "b");
  EXPECT_EQ(ResolveLww(Sync(a, b)), ResolveLww(Sync(b, a)));
  EXPECT_EQ(ResolveLww(Object{}), Object{});
}

// ---- Codec ----

Object Rich() {
  Object s = Update({}, {}, A, 1, false, std::string("bin\0ary\xff", 8));
  s = Sync(s, Update({}, {}, Actor{"node-with-a-long-name", 42}, -5, true, ""));
  s = Update(s, {}, B, 1234567890123, false, std::string(1000, 'x'));
  s = Sync(s, Compact({{Actor{"", 0}, 3, {}}}));
  return s;
}

TEST(CodecTest, RoundTrip) {
  for (const Object& o : {Object{}, V1(), V2(), RB(), Sync(V2(), RB()), Rich(),
                          Compact({{A, 2, {}}, {B, 1, {kTomb}}})}) {
    std::string bytes = EncodeObject(o);
    EXPECT_EQ(bytes.size() % 8, 0u);
    Result<Object> back = DecodeObject(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, o);
    EXPECT_EQ(EncodeObject(*back), bytes);
  }
}

TEST(CodecTest, EqualObjectsGiveEqualBytes) {
  Object x = Sync(Sync(V2(), RB()), Rich());
  Object y = Sync(Rich(), Sync(RB(), V2()));
  ASSERT_EQ(x, y);
  EXPECT_EQ(EncodeObject(x), EncodeObject(y));
  // Context built in a different order.
  Object z = x;
  std::vector<VersionVector::Entry> reversed(x.context.entries().rbegin(),
                                             x.context.entries().rend());
  z.context = VersionVector(reversed);
  EXPECT_EQ(EncodeObject(z), EncodeObject(x));
  EXPECT_NE(EncodeObject(V1()), EncodeObject(V2()));
}

TEST(CodecTest, UnalignedInput) {
  std::string bytes = EncodeObject(Rich());
  std::string buffer = "x" + bytes;
  Result<Object> back = DecodeObject(std::string_view(buffer).substr(1));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, Rich());
}

TEST(CodecTest, TruncatedInputIsCorruption) {
  std::string bytes = EncodeObject(Rich());
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<Object> r = DecodeObject(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix " << n;
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  }
}

TEST(CodecTest, GarbageNeverCrashes) {
  std::mt19937_64 rng(12345);
  int corrupt = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string garbage((rng() % 64) * 8, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    Result<Object> r = DecodeObject(garbage);
    if (r.ok()) {
      EXPECT_EQ(CheckInvariants(*r), "");
    } else {
      EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
      ++corrupt;
    }
  }
  EXPECT_GT(corrupt, 1000);
}

TEST(CodecTest, BitFlipsNeverCrash) {
  std::string bytes = EncodeObject(Sync(V2(), RB()));
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string flipped = bytes;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    Result<Object> r = DecodeObject(flipped);
    if (r.ok()) {
      EXPECT_EQ(CheckInvariants(*r), "") << "bit " << bit;
    } else {
      EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    }
  }
}

TEST(CodecTest, HugeClaimedListIsCorruption) {
  // A root pointer to a struct list claiming 2^29 - 1 elements.
  std::string bytes = EncodeObject(V2());
  bytes.resize(bytes.size() + 8, '\xff');
  for (size_t i = 8; i + 8 <= bytes.size(); i += 8) {
    std::string bad = bytes;
    std::fill(bad.begin() + i, bad.begin() + i + 8, '\xff');
    Result<Object> r = DecodeObject(bad);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsCorruption());
    }
  }
}

// Writes `fill` into a fresh message and returns its canonical bytes; lets
// tests produce encodings EncodeObject never would.
template <typename Schema, typename Fill>
std::string RawBytes(Fill fill) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<Schema>();
  fill(root);
  kj::Array<capnp::word> words = capnp::canonicalize(root.asReader());
  return std::string(reinterpret_cast<const char*>(words.asBytes().begin()),
                     words.asBytes().size());
}

void ExpectCorruption(std::string_view bytes, const std::string& fragment) {
  Result<Object> r = DecodeObject(bytes);
  ASSERT_FALSE(r.ok()) << "decoded: " << *r;
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().ToString();
}

TEST(CodecTest, InvariantViolationsRejected) {
  Object good = Sync(V2(), RB());
  ASSERT_EQ(CheckInvariants(good), "");

  Object unsorted = good;
  std::swap(unsorted.siblings[0], unsorted.siblings[1]);
  ExpectCorruption(EncodeObject(unsorted), "canonical order");

  Object duplicated = good;
  duplicated.siblings.push_back(duplicated.siblings.back());
  ExpectCorruption(EncodeObject(duplicated), "duplicated");

  Object uncovered = good;
  uncovered.context.Set(B, 0);
  ExpectCorruption(EncodeObject(uncovered), "not covered");

  Object zero_dot = good;
  zero_dot.siblings[0].dot.counter = 0;
  ExpectCorruption(EncodeObject(zero_dot), "zero dot counter");

  Object tomb_with_value = Compact({{A, 1, {kTomb}}});
  tomb_with_value.siblings[0].value = "x";
  ExpectCorruption(EncodeObject(tomb_with_value), "tombstone");
}

TEST(CodecTest, NonCanonicalContextRejected) {
  auto fill_context = [](std::vector<std::pair<std::string, uint64_t>> entries) {
    return RawBytes<schema::Object>([&](schema::Object::Builder root) {
      auto list = root.initContext(entries.size());
      for (size_t i = 0; i < entries.size(); ++i) {
        list[i].initActor().setNode(entries[i].first);
        list[i].setCounter(entries[i].second);
      }
    });
  };
  ASSERT_TRUE(DecodeObject(fill_context({{"a", 1}, {"b", 1}})).ok());
  ExpectCorruption(fill_context({{"b", 1}, {"a", 1}}), "sorted");
  ExpectCorruption(fill_context({{"a", 1}, {"a", 2}}), "sorted");
  ExpectCorruption(fill_context({{"a", 0}}), "zero counter");
}

TEST(CodecTest, UnknownVersionRejected) {
  for (uint16_t version : {0, 2, 65535}) {
    std::string bytes = RawBytes<schema::Object>(
        [&](schema::Object::Builder root) { root.setVersion(version); });
    ExpectCorruption(bytes, "unsupported object record version " + std::to_string(version));
  }
}

TEST(CodecTest, MisalignedLengthAndEmptyRejected) {
  std::string bytes = EncodeObject(V1());
  ExpectCorruption(bytes + "x", "multiple of 8");
  ExpectCorruption("", "empty");
}

TEST(CodecTest, CapnpEmbedding) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Object>();
  ObjectToCapnp(Rich(), root);
  Result<Object> back = ObjectFromCapnp(root.asReader());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, Rich());

  Object bad = V2();
  std::swap(bad.siblings[0], bad.siblings[1]);
  ObjectToCapnp(bad, message.initRoot<schema::Object>());
  Result<Object> rejected = ObjectFromCapnp(message.getRoot<schema::Object>().asReader());
  ASSERT_FALSE(rejected.ok());
  EXPECT_TRUE(rejected.status().IsCorruption());
}

TEST(ContextCodecTest, EmptyIsEmptyString) {
  EXPECT_EQ(EncodeContext(VersionVector(), "b", "k"), "");
  Result<ClientContext> back = DecodeContext("");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->clock.empty());
  EXPECT_EQ(back->key_hash, std::nullopt);
}

TEST(ContextCodecTest, RoundTripAndCanonical) {
  VersionVector vv = Sync(Rich(), RB()).context;
  std::string bytes = EncodeContext(vv, "b", "k");
  Result<ClientContext> back = DecodeContext(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->clock, vv);
  EXPECT_EQ(back->key_hash, KeyHash("b", "k"));
  std::vector<VersionVector::Entry> reversed(vv.entries().rbegin(), vv.entries().rend());
  EXPECT_EQ(EncodeContext(VersionVector(reversed), "b", "k"), bytes);
  std::string buffer = "abc" + bytes;
  Result<ClientContext> unaligned = DecodeContext(std::string_view(buffer).substr(3));
  ASSERT_TRUE(unaligned.ok());
  EXPECT_EQ(unaligned->clock, vv);
}

TEST(ContextCodecTest, BadInputIsCorruption) {
  std::string bytes = EncodeContext(Vv({{A, 2}, {B, 1}}), "b", "k");
  for (size_t n = 1; n < bytes.size(); ++n) {
    Result<ClientContext> r = DecodeContext(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix " << n;
    EXPECT_TRUE(r.status().IsCorruption());
  }
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string flipped = bytes;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    Result<ClientContext> r = DecodeContext(flipped);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    }
  }
  std::string unsorted = RawBytes<schema::Context>([](schema::Context::Builder root) {
    auto list = root.initEntries(2);
    list[0].initActor().setNode("b");
    list[0].setCounter(1);
    list[1].initActor().setNode("a");
    list[1].setCounter(1);
  });
  EXPECT_TRUE(DecodeContext(unsorted).status().IsCorruption());
  std::string future = RawBytes<schema::Context>(
      [](schema::Context::Builder root) { root.setVersion(3); });
  Result<ClientContext> r = DecodeContext(future);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unsupported context version 3"), std::string::npos);
}

// The decoder refuses, rather than normalizes, entries this encoder never
// writes.
TEST(VersionVectorTest, DecoderRefusesDuplicateUnsortedAndZeroEntries) {
  auto context = [](std::vector<std::pair<const char*, uint64_t>> entries) {
    return RawBytes<schema::Context>([&](schema::Context::Builder root) {
      root.setVersion(1);
      auto list = root.initEntries(static_cast<unsigned>(entries.size()));
      for (unsigned i = 0; i < entries.size(); ++i) {
        list[i].initActor().setNode(entries[i].first);
        list[i].setCounter(entries[i].second);
      }
    });
  };
  EXPECT_TRUE(DecodeContext(context({{"a", 1}, {"a", 2}})).status().IsCorruption());
  EXPECT_TRUE(DecodeContext(context({{"b", 1}, {"a", 2}})).status().IsCorruption());
  EXPECT_TRUE(DecodeContext(context({{"a", 1}, {"b", 0}})).status().IsCorruption());
  Result<ClientContext> good = DecodeContext(context({{"a", 1}, {"b", 2}}));
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->clock, VersionVector({{Actor{"b", 0}, 2}, {Actor{"a", 0}, 1}}));
}

TEST(ContextCodecTest, AContextIsBoundToItsKeyAndAnOldOneToNone) {
  const VersionVector vv = Vv({{A, 2}, {B, 1}});
  Result<ClientContext> bound = DecodeContext(EncodeContext(vv, "carts", "alice"));
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_TRUE(CheckContextKey(*bound, "carts", "alice").ok());
  Status other = CheckContextKey(*bound, "carts", "bob");
  EXPECT_TRUE(other.IsInvalidArgument());
  EXPECT_NE(other.message().find("read from another key than carts/bob"), std::string::npos)
      << other.message();
  EXPECT_TRUE(CheckContextKey(*bound, "cartz", "alice").IsInvalidArgument());

  // Version 1, as nodes before key binding handed out: the clock, no key.
  std::string old = RawBytes<schema::Context>([](schema::Context::Builder root) {
    root.setVersion(1);
    auto list = root.initEntries(1);
    list[0].initActor().setNode("a");
    list[0].setCounter(4);
  });
  Result<ClientContext> unbound = DecodeContext(old);
  ASSERT_TRUE(unbound.ok()) << unbound.status().ToString();
  EXPECT_EQ(unbound->key_hash, std::nullopt);
  EXPECT_EQ(unbound->clock.Get(Actor{"a", 0}), 4u);
  EXPECT_TRUE(CheckContextKey(*unbound, "any", "key").ok());
}

}  // namespace
}  // namespace ringkv
