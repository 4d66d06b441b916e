#include "common/metrics.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ringkv {
namespace {

// A registration mistake is a bug in the calling code, found the first
// time the node starts; there is no caller that could handle it.
[[noreturn]] void RegistrationBug(std::string_view name, std::string_view what) {
  std::fprintf(stderr, "ringkv: metric %.*s: %.*s\n", static_cast<int>(name.size()),
               name.data(), static_cast<int>(what.size()), what.data());
  std::abort();
}

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, without ':' for labels.
bool ValidName(std::string_view s, bool colons) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (i == 0 ? IsNameStart(c) : IsNameChar(c)) || (colons && c == ':');
    if (!ok) return false;
  }
  return true;
}

// Sorted by label name, so {a, b} and {b, a} are one series.
MetricLabels Canonical(std::string_view metric, MetricLabels labels, MetricType type) {
  std::sort(labels.begin(), labels.end());
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& label = labels[i].first;
    if (!ValidName(label, false) || label.starts_with("__")) {
      RegistrationBug(metric, "invalid label name '" + label + "'");
    }
    if (type == MetricType::kHistogram && label == "le") {
      RegistrationBug(metric, "a histogram cannot have a label 'le'");
    }
    if (i > 0 && labels[i - 1].first == label) {
      RegistrationBug(metric, "label '" + label + "' given twice");
    }
  }
  return labels;
}

uint64_t RankOf(uint64_t count, double q) {
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count)));
  return std::max<uint64_t>(rank, 1);
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

int Histogram::BucketOf(uint64_t value) {
  if (value < static_cast<uint64_t>(kSubBuckets)) return static_cast<int>(value);
  // value in [2^e, 2^(e+1)), e >= kSubBucketBits: the top kSubBucketBits + 1
  // bits pick the bucket, the rest are the bucket's width.
  const int shift = std::bit_width(value) - 1 - kSubBucketBits;
  const auto sub = static_cast<int>(value >> shift) - kSubBuckets;
  return (shift + 1) * kSubBuckets + sub;
}

uint64_t Histogram::UpperBound(int bucket) {
  if (bucket < kSubBuckets) return static_cast<uint64_t>(bucket);
  const int shift = bucket / kSubBuckets - 1;
  const uint64_t lower = static_cast<uint64_t>(kSubBuckets + bucket % kSubBuckets) << shift;
  return lower + ((uint64_t{1} << shift) - 1);
}

double Histogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  const uint64_t rank = RankOf(count_, q);
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) return static_cast<double>(UpperBound(b)) * scale_;
  }
  return static_cast<double>(UpperBound(kBuckets - 1)) * scale_;
}

std::vector<HistogramBucket> Histogram::Buckets() const {
  std::vector<HistogramBucket> out;
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets && seen < count_; ++b) {
    if (counts_[b] == 0) continue;
    seen += counts_[b];
    out.push_back({static_cast<double>(UpperBound(b)) * scale_, seen});
  }
  return out;
}

double HistogramQuantile(const MetricSample& histogram, double q) {
  if (histogram.count == 0 || histogram.buckets.empty()) return 0;
  const uint64_t rank = RankOf(histogram.count, q);
  for (const HistogramBucket& b : histogram.buckets) {
    if (b.cumulative_count >= rank) return b.upper_bound;
  }
  return histogram.buckets.back().upper_bound;
}

// A callback registration. `owner` names the handle that may remove it (0:
// none, the series is absent from snapshots).
struct MetricsRegistry::CallbackSlot {
  uint64_t owner = 0;
  std::function<double()> one;
  std::function<std::vector<LabeledValue>()> many;
  void Clear() {
    owner = 0;
    one = nullptr;
    many = nullptr;
  }
};

struct MetricsRegistry::Series {
  MetricLabels labels;
  bool is_callback = false;
  Counter counter;
  Gauge gauge;
  std::unique_ptr<Histogram> histogram;
  CallbackSlot callback;
};

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  MetricType type;
  double scale = 1;
  // Sorted by labels; each Series stays where it was allocated, so the
  // handles into it stay valid.
  std::vector<std::unique_ptr<Series>> series;
  std::unique_ptr<CallbackSlot> family_callback;
};

MetricsRegistry::CallbackHandle& MetricsRegistry::CallbackHandle::operator=(
    CallbackHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    slot_ = std::exchange(other.slot_, nullptr);
    owner_ = std::exchange(other.owner_, 0);
  }
  return *this;
}

void MetricsRegistry::CallbackHandle::Reset() {
  if (slot_ != nullptr && slot_->owner == owner_) slot_->Clear();
  slot_ = nullptr;
  owner_ = 0;
}

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family* MetricsRegistry::FamilyFor(std::string_view name, std::string_view help,
                                                    MetricType type, double scale) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (!ValidName(name, true)) RegistrationBug(name, "invalid metric name");
    auto family = std::make_unique<Family>();
    family->name = std::string(name);
    family->help = std::string(help);
    family->type = type;
    family->scale = scale;
    it = families_.emplace(family->name, std::move(family)).first;
  }
  Family* family = it->second.get();
  if (family->type != type) {
    RegistrationBug(name, std::string("already registered as a ") +
                              std::string(MetricTypeName(family->type)));
  }
  if (family->scale != scale) RegistrationBug(name, "already registered with another scale");
  return family;
}

MetricsRegistry::Series* MetricsRegistry::SeriesFor(Family* family, MetricLabels labels,
                                                    bool callback) {
  if (family->family_callback != nullptr) {
    RegistrationBug(family->name, "is a family callback and has no other series");
  }
  labels = Canonical(family->name, std::move(labels), family->type);
  auto it = std::lower_bound(
      family->series.begin(), family->series.end(), labels,
      [](const std::unique_ptr<Series>& s, const MetricLabels& l) { return s->labels < l; });
  if (it != family->series.end() && (*it)->labels == labels) {
    if ((*it)->is_callback != callback) {
      RegistrationBug(family->name, callback ? "series already holds a value"
                                             : "series already is a callback");
    }
    return it->get();
  }
  auto series = std::make_unique<Series>();
  series->labels = std::move(labels);
  series->is_callback = callback;
  if (family->type == MetricType::kHistogram) {
    series->histogram = std::make_unique<Histogram>(family->scale);
  }
  return family->series.insert(it, std::move(series))->get();
}

Counter* MetricsRegistry::AddCounter(std::string_view name, std::string_view help,
                                     MetricLabels labels) {
  Family* family = FamilyFor(name, help, MetricType::kCounter, 1);
  return &SeriesFor(family, std::move(labels), false)->counter;
}

Gauge* MetricsRegistry::AddGauge(std::string_view name, std::string_view help,
                                 MetricLabels labels) {
  Family* family = FamilyFor(name, help, MetricType::kGauge, 1);
  return &SeriesFor(family, std::move(labels), false)->gauge;
}

Histogram* MetricsRegistry::AddHistogram(std::string_view name, std::string_view help,
                                         MetricLabels labels, double scale) {
  Family* family = FamilyFor(name, help, MetricType::kHistogram, scale);
  return SeriesFor(family, std::move(labels), false)->histogram.get();
}

MetricsRegistry::CallbackHandle MetricsRegistry::AddGaugeCallback(std::string_view name,
                                                                  std::string_view help,
                                                                  MetricLabels labels,
                                                                  std::function<double()> fn) {
  Family* family = FamilyFor(name, help, MetricType::kGauge, 1);
  CallbackSlot* slot = &SeriesFor(family, std::move(labels), true)->callback;
  slot->Clear();
  slot->owner = next_owner_++;
  slot->one = std::move(fn);
  return CallbackHandle(slot, slot->owner);
}

MetricsRegistry::CallbackHandle MetricsRegistry::AddGaugeFamilyCallback(
    std::string_view name, std::string_view help,
    std::function<std::vector<LabeledValue>()> fn) {
  Family* family = FamilyFor(name, help, MetricType::kGauge, 1);
  if (!family->series.empty()) {
    RegistrationBug(name, "already has series; a family callback must be its only source");
  }
  if (family->family_callback == nullptr) {
    family->family_callback = std::make_unique<CallbackSlot>();
  }
  CallbackSlot* slot = family->family_callback.get();
  slot->Clear();
  slot->owner = next_owner_++;
  slot->many = std::move(fn);
  return CallbackHandle(slot, slot->owner);
}

std::vector<MetricSample> MetricsRegistry::Snapshot() const {
  std::vector<MetricSample> out;
  for (const auto& [name, family] : families_) {
    auto sample = [&family = *family](MetricLabels labels) {
      MetricSample s;
      s.name = family.name;
      s.type = family.type;
      s.help = family.help;
      s.labels = std::move(labels);
      return s;
    };
    if (const CallbackSlot* slot = family->family_callback.get(); slot && slot->owner != 0) {
      std::vector<LabeledValue> values = slot->many();
      for (LabeledValue& v : values) {
        v.labels = Canonical(name, std::move(v.labels), family->type);
      }
      std::sort(values.begin(), values.end(),
                [](const LabeledValue& a, const LabeledValue& b) { return a.labels < b.labels; });
      for (LabeledValue& v : values) {
        MetricSample s = sample(std::move(v.labels));
        s.value = v.value;
        out.push_back(std::move(s));
      }
    }
    for (const auto& series : family->series) {
      if (series->is_callback && series->callback.owner == 0) continue;
      MetricSample s = sample(series->labels);
      switch (family->type) {
        case MetricType::kCounter:
          s.value = static_cast<double>(series->counter.value());
          break;
        case MetricType::kGauge:
          s.value = series->is_callback ? series->callback.one() : series->gauge.value();
          break;
        case MetricType::kHistogram:
          s.count = series->histogram->count();
          s.sum = series->histogram->sum();
          s.buckets = series->histogram->Buckets();
          break;
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace ringkv
