// Reading one series out of a registry, for tests.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

#include "common/metrics.h"

namespace ringkv::testing {

// The sample (name, labels) of `registry` now, if there is one.
inline std::optional<MetricSample> FindMetric(const MetricsRegistry& registry,
                                              std::string_view name,
                                              const MetricLabels& labels = {}) {
  for (MetricSample& s : registry.Snapshot()) {
    if (s.name == name && s.labels == labels) return std::move(s);
  }
  return std::nullopt;
}

// The value of counter or gauge (name, labels); -1 when absent, so a
// missing series never passes for a zero.
inline double MetricValue(const MetricsRegistry& registry, std::string_view name,
                          const MetricLabels& labels = {}) {
  std::optional<MetricSample> s = FindMetric(registry, name, labels);
  return s ? s->value : -1;
}

}  // namespace ringkv::testing
