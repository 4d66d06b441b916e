// Issue 13, "an optional out-of-process worker mode for plugins the
// operator does not trust": a plugin run by ringkv-merge-worker
// (merge/merge_worker.h).
// - Every built-in merges through its worker into the very bytes it
//   merges into in this process, values of 3 MiB included.
// - The law check runs in the worker: a broken law, a crash and a loop
//   are refused as in the forked check; a plugin the worker cannot load is
//   refused with the loader's reason; a worker named without a directory
//   is found on PATH.
// - A plugin that crashes, loops, allocates without bound or writes onto
//   its socket: this process (the node) goes on, the read keeps both
//   siblings, the failure is counted under its reason, the worker is
//   killed and started again, and a later merge works.
#include "merge/merge_worker.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "merge/merge_guard.h"
#include "merge/merge_resolver.h"
#include "merge/plugin_catalog.h"
#include "merge/worker_frame.h"
#include "tests/merge/plugin_test_util.h"
#include "tests/testing/fake_env.h"

namespace ringkv::testing {
namespace {

MergeWorkerOptions Options() {
  MergeWorkerOptions o;
  o.binary = RINGKV_MERGE_WORKER;
  o.backoff_min_us = 10'000;
  return o;
}

Sibling Stamped(std::string value, int64_t ts, std::string node, uint64_t counter) {
  Sibling s;
  s.value = std::move(value);
  s.timestamp_us = ts;
  s.dot.actor.node = std::move(node);
  s.dot.actor.incarnation = 1;
  s.dot.counter = counter;
  return s;
}

double Value(const MetricsRegistry& metrics, const std::string& name, const MetricLabels& labels) {
  for (const MetricSample& s : metrics.Snapshot()) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return -1;
}

class BuiltinThroughWorkerTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BuiltinThroughWorkerTest, MergesIntoTheBytesItMergesIntoInProcess) {
  auto plugin = MustOpen(BuiltinPlugin(GetParam()));
  ASSERT_NE(plugin, nullptr);
  Result<std::unique_ptr<MergeWorker>> worker =
      MergeWorker::Start(BuiltinPlugin(GetParam()), Options(), LawCheckOptions{});
  ASSERT_TRUE(worker.ok()) << worker.status().ToString();
  EXPECT_EQ((*worker)->info().name, GetParam());
  EXPECT_EQ((*worker)->info().sha256, plugin->info().sha256);
  std::mt19937_64 rng(42);
  for (int round = 0; round < 500; ++round) {
    std::vector<Sibling> siblings;
    const size_t n = 2 + rng() % 3;
    for (size_t i = 0; i < n; ++i) {
      Result<std::string> v = CallSample(plugin->api(), rng() % 64);
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      siblings.push_back(Stamped(*v, static_cast<int64_t>(rng() % 3),
                                 rng() % 2 == 0 ? "n1" : "n2", 1 + rng() % 3));
    }
    std::vector<const Sibling*> views;
    for (const Sibling& s : siblings) views.push_back(&s);
    Result<std::string> here = CallMerge(plugin->api(), views);
    Result<std::string> there = (*worker)->Merge(views);
    ASSERT_EQ(here.ok(), there.ok()) << here.status().ToString() << " / "
                                     << there.status().ToString();
    if (here.ok()) {
      ASSERT_EQ(*here, *there) << "round " << round;
    }
  }
  EXPECT_EQ((*worker)->starts(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Builtins, BuiltinThroughWorkerTest,
                         ::testing::Values("max", "min", "lww", "pncounter", "gset", "awset"));

TEST(MergeWorkerTest, LargeValuesCrossTheSocketWhole) {
  // What is checked is the bytes, not the speed: time enough for a
  // machine under any load.
  MergeWorkerOptions options = Options();
  options.deadline_us_per_mib = 2'000'000;
  Result<std::unique_ptr<MergeWorker>> worker =
      MergeWorker::Start(BuiltinPlugin("max"), options, LawCheckOptions{});
  ASSERT_TRUE(worker.ok()) << worker.status().ToString();
  const Sibling a = Stamped(std::string(3 << 20, 'a'), 1, "n1", 1);
  const Sibling b = Stamped(std::string(3 << 20, 'b'), 1, "n2", 1);
  const Sibling c = Stamped(std::string(3 << 20, 'c'), 1, "n3", 1);
  // Twice: the second finds the worker's memory from the first.
  for (int i = 0; i < 2; ++i) {
    const int64_t start = WorkerNowMicros();
    Result<std::string> merged = (*worker)->Merge({&a, &b, &c});
    std::printf("9 MiB in, 3 MiB out: %.1f ms\n", (WorkerNowMicros() - start) / 1000.0);
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    EXPECT_EQ(*merged, c.value);
  }
  EXPECT_EQ((*worker)->starts(), 1u);
}

TEST(MergeWorkerTest, ADeclineAndAnInvalidOutputComeBackAsInProcess) {
  LawCheckOptions none;
  none.samples = 0;
  Result<std::unique_ptr<MergeWorker>> decline =
      MergeWorker::Start(TestPlugin("decline"), Options(), none);
  Result<std::unique_ptr<MergeWorker>> garbage =
      MergeWorker::Start(TestPlugin("garbage"), Options(), none);
  ASSERT_TRUE(decline.ok() && garbage.ok());
  const Sibling a = Stamped("a", 1, "n1", 1), b = Stamped("b", 1, "n2", 1);
  Result<std::string> declined = (*decline)->Merge({&a, &b});
  EXPECT_TRUE(declined.status().IsInvalidArgument()) << declined.status().ToString();
  EXPECT_NE(declined.status().message().find("einval"), std::string::npos);
  Result<std::string> invalid = (*garbage)->Merge({&a, &b});
  EXPECT_TRUE(invalid.status().IsCorruption()) << invalid.status().ToString();
  EXPECT_NE(invalid.status().message().find("not lent"), std::string::npos);
  // Neither is the worker's fault: it was not restarted.
  EXPECT_EQ((*decline)->starts(), 1u);
  EXPECT_EQ((*garbage)->starts(), 1u);
}

TEST(MergeWorkerTest, TheLawCheckRunsInTheWorker) {
  Result<std::unique_ptr<MergeWorker>> lww =
      MergeWorker::Start(TestPlugin("bad_lww"), Options(), LawCheckOptions{});
  ASSERT_TRUE(lww.status().IsInvalidArgument());
  EXPECT_NE(lww.status().message().find("breaks the commutative law"), std::string::npos)
      << lww.status().message();
  Result<std::unique_ptr<MergeWorker>> crash =
      MergeWorker::Start(TestPlugin("crash"), Options(), LawCheckOptions{});
  ASSERT_TRUE(crash.status().IsInvalidArgument());
  EXPECT_NE(crash.status().message().find("crashed during the law check"), std::string::npos)
      << crash.status().message();
  EXPECT_NE(crash.status().message().find("SIGSEGV"), std::string::npos)
      << crash.status().message();
  LawCheckOptions quick;
  quick.deadline_ms = 500;
  Result<std::unique_ptr<MergeWorker>> loop =
      MergeWorker::Start(TestPlugin("loop"), Options(), quick);
  ASSERT_TRUE(loop.status().IsInvalidArgument());
  EXPECT_NE(loop.status().message().find("did not finish the law check within 500 ms"),
            std::string::npos)
      << loop.status().message();
}

TEST(MergeWorkerTest, APluginItsWorkerCannotLoadIsRefusedWithTheLoadersReason) {
  Result<std::unique_ptr<MergeWorker>> none =
      MergeWorker::Start(TestPlugin("abi_noentry"), Options(), LawCheckOptions{});
  ASSERT_TRUE(none.status().IsInvalidArgument());
  EXPECT_NE(none.status().message().find("exports no ringkv_merge_plugin_entry"),
            std::string::npos)
      << none.status().message();
  MergeWorkerOptions missing = Options();
  missing.binary = "/nonexistent/ringkv-merge-worker";
  Result<std::unique_ptr<MergeWorker>> no_binary =
      MergeWorker::Start(BuiltinPlugin("max"), missing, LawCheckOptions{});
  ASSERT_TRUE(no_binary.status().IsInvalidArgument());
  EXPECT_NE(no_binary.status().message().find("refused"), std::string::npos);
}

TEST(MergeWorkerTest, AWorkerNamedWithoutADirectoryIsFoundOnPath) {
  const std::string dir = std::filesystem::path(RINGKV_MERGE_WORKER).parent_path().string();
  const char* old = std::getenv("PATH");
  const std::string saved = old != nullptr ? old : "";
  MergeWorkerOptions bare = Options();
  bare.binary = std::filesystem::path(RINGKV_MERGE_WORKER).filename().string();
  ASSERT_EQ(setenv("PATH", "/nonexistent", 1), 0);
  Result<std::unique_ptr<MergeWorker>> off_path =
      MergeWorker::Start(BuiltinPlugin("max"), bare, LawCheckOptions{});
  ASSERT_EQ(setenv("PATH", (dir + ":" + saved).c_str(), 1), 0);
  Result<std::unique_ptr<MergeWorker>> on_path =
      MergeWorker::Start(BuiltinPlugin("max"), bare, LawCheckOptions{});
  ASSERT_EQ(setenv("PATH", saved.c_str(), 1), 0);
  EXPECT_TRUE(off_path.status().IsInvalidArgument());
  ASSERT_TRUE(on_path.ok()) << on_path.status().ToString();
  EXPECT_EQ((*on_path)->info().name, "max");
  Sibling a = Stamped("5", 1, "n1", 1), b = Stamped("12", 2, "n2", 1);
  Result<std::string> merged = (*on_path)->Merge({&a, &b});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(*merged, "12");
}

TEST(MergeWorkerTest, ADirectoryLoadsItsChosenPluginsInWorkers) {
  ManualClock clock;
  MetricsRegistry metrics;
  PluginCatalog catalog(&clock, &metrics);
  PluginWorkers workers;
  workers.files = {"gset.so", "max"};
  workers.options = Options();
  LawCheckOptions laws;
  laws.samples = 200;
  ASSERT_TRUE(catalog.LoadDir(RINGKV_BUILTIN_PLUGINS, laws, workers).ok());
  ASSERT_EQ(catalog.loaded().size(), 6u);
  for (const LoadedPluginInfo& p : catalog.loaded()) {
    EXPECT_EQ(p.in_worker, p.name == "gset" || p.name == "max") << p.name;
  }
  const Resolver* gset = catalog.Find("merge:gset", 0, "");
  ASSERT_NE(gset, nullptr);
  Object both;
  both.siblings = {Stamped("x\n", 1, "n1", 1), Stamped("y\n", 2, "n2", 1)};
  const Object answer = gset->Answer(both);
  ASSERT_EQ(answer.siblings.size(), 1u);
  EXPECT_EQ(answer.siblings[0].value, "x\ny\n");
}

// A trap plugin in a worker, behind the guard and resolver a bucket uses.
struct Trap {
  std::string value;
  // The failure it is counted as.
  std::string reason;
  // The call's deadline: short for the loop, which meets it; long for the
  // hog, which must meet its memory limit instead (a page fault costs tens
  // of microseconds on a loaded sandbox).
  int64_t deadline_us;
};

class TrapTest : public ::testing::TestWithParam<Trap> {
 protected:
  void SetUp() override {
    MergeWorkerOptions options = Options();
    options.call_deadline_us = GetParam().deadline_us;
    options.memory_bytes = uint64_t{128} << 20;
    LawCheckOptions laws;
    laws.samples = 200;
    Result<std::unique_ptr<MergeWorker>> w = MergeWorker::Start(TestPlugin("trap"), options, laws);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    worker_ = std::move(*w);
    guard_ = std::make_unique<MergeGuard>("trap", worker_.get(), &clock_, &metrics_);
    resolver_ = std::make_unique<MergeResolver>("merge:trap", guard_.get());
  }

  // What a read of `a` and `b` answers.
  Object Read(const std::string& a, const std::string& b) {
    Object o;
    o.siblings = {Stamped(a, 1, "n1", 1), Stamped(b, 2, "n2", 1)};
    return resolver_->Answer(o);
  }

  double Failures(const std::string& reason) {
    return Value(metrics_, "ringkv_merge_failures_total", {{"plugin", "trap"}, {"reason", reason}});
  }

  ManualClock clock_;
  MetricsRegistry metrics_;
  std::unique_ptr<MergeWorker> worker_;
  std::unique_ptr<MergeGuard> guard_;
  std::unique_ptr<MergeResolver> resolver_;
};

TEST_P(TrapTest, TheNodeGoesOnKeepsTheSiblingsCountsAndRestartsTheWorker) {
  const std::string& trap = GetParam().value;
  const std::string& reason = GetParam().reason;
  const Object healthy = Read("a", "b");
  ASSERT_EQ(healthy.siblings.size(), 1u);
  EXPECT_EQ(healthy.siblings[0].value, "b");
  const pid_t first = worker_->pid();
  ASSERT_GT(first, 0);

  const int64_t start = WorkerNowMicros();
  const Object sprung = Read("a", trap);
  const int64_t waited = WorkerNowMicros() - start;
  std::printf("%s: the read waited %.1f ms\n", trap.c_str(), waited / 1000.0);
  ASSERT_EQ(sprung.siblings.size(), 2u);
  EXPECT_EQ(sprung.siblings[0].value, "a");
  EXPECT_EQ(sprung.siblings[1].value, trap);
  EXPECT_EQ(Failures(reason), 1);
  // The old worker is gone (reaped: no such process).
  EXPECT_EQ(worker_->pid(), -1);
  EXPECT_NE(kill(first, 0), 0);
  // Bounded by the deadline, not by the plugin; generous for a loaded machine.
  EXPECT_LT(waited, GetParam().deadline_us + 5'000'000);

  // A later merge works again once a new worker is up; until then each read
  // keeps its siblings (worker_down), waiting for nothing.
  Object later;
  const int64_t give_up = WorkerNowMicros() + 20'000'000;
  int reads = 0;
  do {
    later = Read("c", "dd");
    ++reads;
    if (later.siblings.size() != 1) ::poll(nullptr, 0, 1);
  } while (later.siblings.size() != 1 && WorkerNowMicros() < give_up);
  ASSERT_EQ(later.siblings.size(), 1u) << "no merge within 20 s of the " << trap;
  EXPECT_EQ(later.siblings[0].value, "dd");
  EXPECT_EQ(worker_->starts(), 2u);
  EXPECT_NE(worker_->pid(), first);
  EXPECT_EQ(Failures(reason), 1);
  EXPECT_EQ(Failures("worker_down"), reads - 1);
  std::printf("%s: merging again after %d reads\n", trap.c_str(), reads);
}

INSTANTIATE_TEST_SUITE_P(
    Traps, TrapTest,
    ::testing::Values(Trap{"crash", "worker_crashed", 1'000'000},
                      Trap{"loop", "deadline", 200'000},
                      Trap{"hog", "worker_crashed", 20'000'000},
                      Trap{"scribble", "worker_crashed", 1'000'000}),
    [](const auto& info) { return info.param.value; });

}  // namespace
}  // namespace ringkv::testing
