#include "http/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <iterator>
#include <string_view>

namespace ringkv::http {
namespace {

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  // Plain decimals where they are short ("0.0001", not "1e-04").
  const double magnitude = std::fabs(v);
  const bool plain = v == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  auto [end, ec] = plain ? std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

// HELP text escapes backslash and newline; label values also the quote.
std::string Escape(const std::string& text, bool quote) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Labels(const MetricLabels& labels, const std::string& le = "") {
  if (labels.empty() && le.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    out += (first ? "" : ",") + name + "=\"" + Escape(value, true) + "\"";
    first = false;
  }
  if (!le.empty()) out += std::string(first ? "" : ",") + "le=\"" + le + "\"";
  return out + "}";
}

std::vector<double> BoundsFor(const std::string& name) {
  const std::string_view suffix = "_seconds";
  if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(),
                                                   suffix) == 0) {
    return {std::begin(kSecondsBounds), std::end(kSecondsBounds)};
  }
  std::vector<double> bounds;
  for (int k = 0; k <= 30; ++k) bounds.push_back(static_cast<double>(uint64_t{1} << k));
  return bounds;
}

void Histogram(const MetricSample& s, std::string& out) {
  size_t next = 0;
  uint64_t cumulative = 0;
  for (double bound : BoundsFor(s.name)) {
    while (next < s.buckets.size() && s.buckets[next].upper_bound <= bound) {
      cumulative = s.buckets[next].cumulative_count;
      ++next;
    }
    out += s.name + "_bucket" + Labels(s.labels, Number(bound)) + " " +
           std::to_string(cumulative) + "\n";
  }
  out += s.name + "_bucket" + Labels(s.labels, "+Inf") + " " + std::to_string(s.count) + "\n";
  out += s.name + "_sum" + Labels(s.labels) + " " + Number(s.sum) + "\n";
  out += s.name + "_count" + Labels(s.labels) + " " + std::to_string(s.count) + "\n";
}

}  // namespace

std::string PrometheusText(const std::vector<MetricSample>& samples) {
  std::string out;
  const std::string* family = nullptr;
  for (const MetricSample& s : samples) {
    if (family == nullptr || *family != s.name) {
      out += "# HELP " + s.name + " " + Escape(s.help, false) + "\n";
      out += "# TYPE " + s.name + " " + std::string(MetricTypeName(s.type)) + "\n";
      family = &s.name;
    }
    if (s.type == MetricType::kHistogram) {
      Histogram(s, out);
    } else {
      out += s.name + Labels(s.labels) + " " + Number(s.value) + "\n";
    }
  }
  return out;
}

}  // namespace ringkv::http
