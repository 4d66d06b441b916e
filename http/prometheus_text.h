// Prometheus text exposition format 0.0.4 of a registry snapshot
// (common/metrics.h): `# HELP`, `# TYPE`, then each series. A histogram is
// exported with fixed bounds, so every scrape has the same `le` series and
// rate() over them is sound: kSecondsBounds for a name ending in _seconds,
// powers of two (1 .. 2^30) for any other, then +Inf, _sum and _count.
// Each registry bucket is counted under the first bound at or above its
// upper bound, so an observation may show up to 1/16 higher than it was
// (the registry's precision), never lower. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/metrics.h"

namespace ringkv::http {

inline constexpr double kSecondsBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                            0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                            1,      2.5,     5,      10,    30,     60};
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string PrometheusText(const std::vector<MetricSample>& samples);

}  // namespace ringkv::http
