// Metrics: one registry per node of counters, gauges and log-bucketed
// histograms, each a family with a name, help text and a type, holding one
// series per label set. Components take their handles (Counter*, Gauge*,
// Histogram*) once, at construction, and bump them on the hot path with no
// lookup and no allocation. Snapshot() lists every series; node status
// carries that list on the wire (docs/wire-protocol.md), so a new figure is
// a new name, not a schema change. Every metric is listed in docs/metrics.md.
//
// Names follow Prometheus conventions: `ringkv_<what>_total` for counters,
// base units in the name (`_seconds`, `_bytes`) for the rest.
//
// No atomics and no locks, on purpose: a registry belongs to one node, and
// everything that touches it (the components' increments and Snapshot())
// runs on that node's single loop thread (docs/architecture.md, "One loop
// per node"). A reader on another thread, such as a future HTTP exporter,
// must ask the loop for a snapshot instead of reading the handles.
//
// There are no globals: the node's main builds one registry and hands it to
// each component; the simulator gives each simulated node its own. The
// registry must outlive every handle it gave out.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringkv {

// DO NOT CHANGE the numeric values: they travel on the wire.
enum class MetricType : uint8_t {
  kCounter = 0,
  kGauge = 1,
  kHistogram = 2,
};

// "counter", "gauge", "histogram": the words of Prometheus's `# TYPE` line.
std::string_view MetricTypeName(MetricType type);

// (label name, value) pairs. The registry keeps them sorted by name, so the
// order a caller lists them in does not make a different series.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A value that only goes up (until the process restarts).
class Counter {
 public:
  void Increment() { ++value_; }
  void Add(uint64_t n) { value_ += n; }
  uint64_t value() const { return value_; }

 private:
  uint64_t value_ = 0;
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double value) { value_ = value; }
  void Add(double delta) { value_ += delta; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

// One bucket of a histogram as exported: how many observations were at or
// below `upper_bound` (Prometheus's cumulative `_bucket{le="..."}`).
struct HistogramBucket {
  double upper_bound = 0;
  uint64_t cumulative_count = 0;
  bool operator==(const HistogramBucket&) const = default;
};

// Observations are unsigned integers in a unit the caller picks (durations
// in microseconds, sizes in bytes); `scale` turns them into the unit the
// metric's name promises (1e-6 for microseconds into `_seconds`).
//
// Bucketing, base 2 with 16 sub-buckets per power of two (HdrHistogram
// with 4 bits of precision): values 0..31 have a bucket each; above that,
// each range [2^e, 2^(e+1)) is cut into 16 buckets of equal width. A
// bucket's upper bound therefore exceeds any value in it by less than 1/16
// of that value: quantiles read from buckets overstate by less than 6.25%,
// never understate. 976 buckets cover every uint64_t, so nothing is
// clamped, and Observe is a bit scan and two additions.
class Histogram {
 public:
  static constexpr int kSubBucketBits = 4;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBuckets = kSubBuckets * (64 - kSubBucketBits + 1);

  explicit Histogram(double scale) : scale_(scale) {}

  void Observe(uint64_t value) {
    ++counts_[BucketOf(value)];
    ++count_;
    sum_ += value;
  }

  uint64_t count() const { return count_; }
  // Scaled.
  double sum() const { return static_cast<double>(sum_) * scale_; }
  double scale() const { return scale_; }
  // The scaled upper bound of the bucket holding the q-quantile, q in
  // [0, 1]; 0 when nothing was observed.
  double Quantile(double q) const;
  // The non-empty buckets, ascending, with scaled bounds and cumulative
  // counts. The +Inf bucket is implicit: it holds count().
  std::vector<HistogramBucket> Buckets() const;

  // The bucket index of a raw value, and the largest raw value a bucket
  // holds (its bounds are inclusive).
  static int BucketOf(uint64_t value);
  static uint64_t UpperBound(int bucket);

 private:
  double scale_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  std::array<uint64_t, kBuckets> counts_{};
};

// One series as Snapshot() reports it and node status carries it.
struct MetricSample {
  std::string name;
  MetricType type = MetricType::kCounter;
  std::string help;
  MetricLabels labels;
  // Counters and gauges.
  double value = 0;
  // Histograms: the number and scaled sum of observations, and the
  // non-empty buckets ascending (+Inf implicit, holding `count`).
  uint64_t count = 0;
  double sum = 0;
  std::vector<HistogramBucket> buckets;
  bool operator==(const MetricSample&) const = default;
};

// The upper bound of the bucket holding the q-quantile of a histogram
// sample (what `ringkv-admin status --metrics` prints); 0 when empty.
double HistogramQuantile(const MetricSample& histogram, double q);

// A series of a gauge family whose label sets are known only when it is
// read (pending hints per target).
struct LabeledValue {
  MetricLabels labels;
  double value = 0;
};

class MetricsRegistry {
 private:
  struct CallbackSlot;

 public:
  // Keeps a callback gauge registered while it lives: a component holds one
  // per callback, so a snapshot never calls into a destroyed component.
  class [[nodiscard]] CallbackHandle {
   public:
    CallbackHandle() = default;
    ~CallbackHandle() { Reset(); }
    CallbackHandle(CallbackHandle&& other) noexcept { *this = std::move(other); }
    CallbackHandle& operator=(CallbackHandle&& other) noexcept;
    CallbackHandle(const CallbackHandle&) = delete;
    CallbackHandle& operator=(const CallbackHandle&) = delete;
    // Unregisters now; the series disappears from snapshots.
    void Reset();

   private:
    friend class MetricsRegistry;
    CallbackHandle(CallbackSlot* slot, uint64_t owner) : slot_(slot), owner_(owner) {}
    CallbackSlot* slot_ = nullptr;
    uint64_t owner_ = 0;
  };

  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Each Add* returns the series (name, labels), creating it and its family
  // on first use; asking again returns the same series, so two components
  // may share one. The family's help text is the first one given.
  //
  // REQUIRES (checked; a violation aborts, as it is a bug in the code, not
  // a runtime condition): `name` and the label names are valid Prometheus
  // names (label names not starting with "__"; no "le" on histograms; no
  // name twice in one set), `name` is not registered with another type or,
  // for histograms, another scale, and (name, labels) is not already a
  // callback series when asking for a value, or the reverse.
  Counter* AddCounter(std::string_view name, std::string_view help, MetricLabels labels = {});
  Gauge* AddGauge(std::string_view name, std::string_view help, MetricLabels labels = {});
  Histogram* AddHistogram(std::string_view name, std::string_view help, MetricLabels labels,
                          double scale);
  // A gauge evaluated by Snapshot() (connections open, cache bytes).
  // Registering (name, labels) again replaces the callback; the earlier
  // handle then no longer removes it.
  CallbackHandle AddGaugeCallback(std::string_view name, std::string_view help,
                                  MetricLabels labels, std::function<double()> fn);
  // A whole gauge family evaluated by Snapshot(), for label sets that come
  // and go. REQUIRES: the family has no other series.
  CallbackHandle AddGaugeFamilyCallback(std::string_view name, std::string_view help,
                                        std::function<std::vector<LabeledValue>()> fn);

  // Every series: families by name, series within one by labels.
  std::vector<MetricSample> Snapshot() const;

 private:
  struct Series;
  struct Family;
  Family* FamilyFor(std::string_view name, std::string_view help, MetricType type,
                    double scale);
  Series* SeriesFor(Family* family, MetricLabels labels, bool callback);

  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  uint64_t next_owner_ = 1;
};

}  // namespace ringkv
