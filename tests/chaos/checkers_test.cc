// The chaos checkers and schedule on hand-made histories and replica reads:
// each checker passes on a correct outcome and names the violation of a
// wrong one. No processes.
#include "tests/chaos/checkers.h"

#include <gtest/gtest.h>

#include "tests/chaos/nemesis.h"

namespace ringkv::chaos {
namespace {

Op Acked(const std::string& bucket, const std::string& key, const std::string& value,
         int64_t invoke_us, int64_t complete_us, int node = 1) {
  Op op;
  op.worker = "test";
  op.bucket = bucket;
  op.key = key;
  op.value = value;
  op.node = node;
  op.invoke_us = invoke_us;
  op.complete_us = complete_us;
  op.outcome = Outcome::kOk;
  return op;
}

// An object holding `values`, each written blind by its own coordinator at
// timestamps 100, 200, ... in order.
Object Holding(const std::vector<std::string>& values) {
  Object o;
  int64_t ts = 0;
  int actor = 0;
  for (const std::string& v : values) {
    o = Update(o, {}, Actor{"n" + std::to_string(++actor), 1}, ts += 100, false, v);
  }
  return o;
}

FaultWindow Window(const std::string& kind, int64_t start_us = 0, int64_t end_us = 0) {
  FaultWindow w;
  w.kind = kind;
  w.start_us = start_us;
  w.end_us = end_us;
  return w;
}

KeyState Key(const std::string& bucket, const std::string& key, bool lww,
             const std::vector<Object>& replicas) {
  KeyState k{bucket, key, lww, {}};
  int node = 0;
  for (const Object& o : replicas) k.replicas.push_back({++node, true, !o.siblings.empty(), o});
  return k;
}

TEST(ChaosCheckersTest, LostNamesAnAcknowledgedValueNoReplicaHolds) {
  const std::vector<Op> ops = {Acked("sib", "k", "a", 0, 10), Acked("sib", "k", "b", 20, 30)};
  const Object both = Holding({"a", "b"});
  EXPECT_TRUE(CheckLost(ops, {Key("sib", "k", false, {both, both, both})}).ok());

  // "b" survives on one replica only: present in the merge, not lost.
  EXPECT_TRUE(CheckLost(ops, {Key("sib", "k", false, {Holding({"a"}), both})}).ok());

  CheckResult lost = CheckLost(ops, {Key("sib", "k", false, {Holding({"a"}), Holding({"a"})})});
  EXPECT_EQ(lost.violations, 1u);
  EXPECT_EQ(lost.subjects, std::set<std::string>{"b"});
  EXPECT_EQ(lost.checked, 2u);
}

TEST(ChaosCheckersTest, LostIgnoresFailedWritesAndLwwBuckets) {
  Op failed = Acked("sib", "k", "x", 0, 10);
  failed.outcome = Outcome::kFail;
  const std::vector<Op> ops = {failed, Acked("lww", "k", "y", 0, 10)};
  EXPECT_TRUE(
      CheckLost(ops, {Key("sib", "k", false, {Object{}}), Key("lww", "k", true, {Holding({"z"})})})
          .ok());
}

TEST(ChaosCheckersTest, NeverWrittenNamesAValueNoWriteInvoked) {
  Op info = Acked("sib", "k", "a", 0, 10);
  info.outcome = Outcome::kInfo;  // unanswered writes may still land
  EXPECT_TRUE(CheckNeverWritten({info}, {Key("sib", "k", false, {Holding({"a"})})}).ok());
  CheckResult r = CheckNeverWritten({info}, {Key("sib", "k", false, {Holding({"a", "ghost"})})});
  EXPECT_EQ(r.violations, 1u);
  EXPECT_EQ(r.subjects, std::set<std::string>{"ghost"});
}

TEST(ChaosCheckersTest, LwwOrderNamesAnEarlierWriteThatWins) {
  // "old" acknowledged at 10, "new" invoked at 20: "new" must win.
  const std::vector<Op> ops = {Acked("lww", "k", "old", 0, 10), Acked("lww", "k", "new", 20, 30)};
  // Holding() stamps later values later: this object resolves to "new".
  EXPECT_TRUE(CheckLwwOrder(ops, {Key("lww", "k", true, {Holding({"old", "new"})})}).ok());

  CheckResult r = CheckLwwOrder(ops, {Key("lww", "k", true, {Holding({"new", "old"})})});
  EXPECT_EQ(r.violations, 1u);
  EXPECT_EQ(r.subjects, std::set<std::string>{"new"});
}

TEST(ChaosCheckersTest, LwwOrderLetsConcurrentWritesWinEitherWay) {
  // "b" was invoked before "a" was acknowledged: either may win.
  const std::vector<Op> ops = {Acked("lww", "k", "a", 0, 10), Acked("lww", "k", "b", 5, 30)};
  EXPECT_TRUE(CheckLwwOrder(ops, {Key("lww", "k", true, {Holding({"b", "a"})})}).ok());
  EXPECT_TRUE(CheckLwwOrder(ops, {Key("lww", "k", true, {Holding({"a", "b"})})}).ok());
}

TEST(ChaosCheckersTest, LwwOrderNamesAcknowledgedWritesWhenNothingIsLeft) {
  const std::vector<Op> ops = {Acked("lww", "k", "a", 0, 10)};
  CheckResult r = CheckLwwOrder(ops, {Key("lww", "k", true, {Object{}})});
  EXPECT_EQ(r.subjects, std::set<std::string>{"a"});
}

TEST(ChaosCheckersTest, DuplicateSiblingsNamesAValueHeldTwice) {
  EXPECT_TRUE(CheckDuplicateSiblings({Key("sib", "k", false, {Holding({"a", "b"})})}).ok());
  // One write applied by two coordinators: two dots, one value.
  CheckResult r = CheckDuplicateSiblings({Key("sib", "k", false, {Holding({"a", "b", "a"})})});
  EXPECT_EQ(r.violations, 1u);
  EXPECT_EQ(r.subjects, std::set<std::string>{"a"});
  // Each replica holds the value once, under different dots: the merge holds it twice.
  Object n1 = Update({}, {}, Actor{"n1", 1}, 100, false, "a");
  Object n2 = Update({}, {}, Actor{"n2", 1}, 100, false, "a");
  EXPECT_EQ(CheckDuplicateSiblings({Key("sib", "k", false, {n1, n2})}).violations, 1u);
}

TEST(ChaosCheckersTest, ConvergenceNamesKeysWhoseReplicasDifferOrDoNotAnswer) {
  const Object a = Holding({"a"});
  EXPECT_TRUE(CheckConvergence({Key("sib", "k", false, {a, a, a})}).ok());
  KeyState silent = Key("sib", "k2", false, {a, a, a});
  silent.replicas[2].answered = false;
  CheckResult r = CheckConvergence({Key("sib", "k1", false, {a, Holding({"a", "b"}), a}), silent});
  EXPECT_EQ(r.violations, 2u);
  EXPECT_EQ(r.subjects, (std::set<std::string>{"sib/k1", "sib/k2"}));
}

TEST(ChaosCheckersTest, WriteShouldSucceedFollowsStrictQuorum) {
  const FaultWindow calm = Window("none");
  EXPECT_TRUE(WriteShouldSucceed(calm, 5, {1, 2, 3}, 2));

  FaultWindow kill = Window("kill");
  kill.down = {1};
  EXPECT_FALSE(WriteShouldSucceed(kill, 1, {1, 2, 3}, 2));  // sent to the dead node
  EXPECT_TRUE(WriteShouldSucceed(kill, 4, {1, 2, 3}, 2));
  EXPECT_FALSE(WriteShouldSucceed(kill, 4, {1, 2, 3}, 3));

  // n1,n2 | n3,n4,n5: through n1, primaries n1, n3, n4 give n1 only one.
  FaultWindow halves = Window("partition-halves");
  for (int a : {1, 2}) {
    for (int b : {3, 4, 5}) halves.cuts.insert({a, b});
  }
  EXPECT_FALSE(WriteShouldSucceed(halves, 1, {1, 3, 4}, 2));
  EXPECT_TRUE(WriteShouldSucceed(halves, 5, {1, 3, 4}, 2));
  EXPECT_TRUE(WriteShouldSucceed(halves, 2, {1, 2, 4}, 2));
}

TEST(ChaosCheckersTest, AvailabilityCountsWritesInsideWindowsAndFailsBelowTheShare) {
  FaultWindow kill = Window("kill", 1'000, 2'000);
  kill.down = {1};
  const std::vector<FaultWindow> windows = {Window("none", 0, 1'000), kill};
  Op through_dead = Acked("sib", "k", "dead", 1'100, 1'200, /*node=*/1);
  through_dead.outcome = Outcome::kFail;
  Op failed = Acked("sib", "k", "failed", 1'100, 1'500, /*node=*/2);
  failed.outcome = Outcome::kInfo;
  const std::vector<Op> ops = {
      Acked("sib", "k", "calm", 100, 200, 2),
      Acked("sib", "k", "straddles", 900, 1'100, 2),  // judged by nobody
      through_dead,                                   // not expected to succeed
      Acked("sib", "k", "ok", 1'100, 1'300, 2),
      failed,
  };
  const PrimariesFn primaries = [](const std::string&, const std::string&) {
    return std::vector<int>{1, 2, 3};
  };
  std::vector<AvailabilityRow> rows;
  CheckResult r = CheckAvailability(ops, windows, primaries, {{"sib", 2}}, 0.99, &rows);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].kind, "none");
  EXPECT_EQ(rows[0].expected, 1u);
  EXPECT_EQ(rows[0].ok, 1u);
  EXPECT_EQ(rows[1].kind, "kill");
  EXPECT_EQ(rows[1].expected, 2u);
  EXPECT_EQ(rows[1].ok, 1u);
  EXPECT_EQ(r.subjects, std::set<std::string>{"failed"});
  EXPECT_TRUE(CheckAvailability(ops, windows, primaries, {{"sib", 2}}, 0.5, &rows).ok());
}

TEST(ChaosScheduleTest, ASeedNamesOneScheduleWithEveryKindAndOneWipe) {
  ScheduleOptions options;
  options.seed = 42;
  options.faults = 20;
  const std::vector<Fault> a = MakeSchedule(options);
  const std::vector<Fault> b = MakeSchedule(options);
  ASSERT_EQ(a.size(), 20u);
  std::set<FaultKind> first;
  int wipes = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(DescribeFault(a[i]), DescribeFault(b[i]));
    EXPECT_EQ(a[i].gap_ms, b[i].gap_ms);
    EXPECT_GE(a[i].duration_ms, options.min_fault_ms);
    EXPECT_LE(a[i].duration_ms, options.max_fault_ms);
    if (i < AllFaultKinds().size()) first.insert(a[i].kind);
    wipes += a[i].kind == FaultKind::kWipe;
  }
  EXPECT_EQ(first.size(), AllFaultKinds().size());
  EXPECT_EQ(wipes, 1);
  options.seed = 43;
  const std::vector<Fault> c = MakeSchedule(options);
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i)
    differs = differs || DescribeFault(a[i]) != DescribeFault(c[i]);
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace ringkv::chaos
