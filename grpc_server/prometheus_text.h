// A writer of the Prometheus text exposition format (version 0.0.4): metric
// families with their HELP and TYPE lines, samples with escaped labels, and
// cumulative histograms. No Prometheus C++ client is packaged by Debian;
// this is all /metrics needs.
#ifndef SMARKETING_GRPC_SERVER_PROMETHEUS_TEXT_H_
#define SMARKETING_GRPC_SERVER_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace smarketing {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Observations counted in buckets of upper bounds (seconds, bytes...).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations <= bounds()[i], not cumulative; the last is +Inf.
  const std::vector<uint64_t>& counts() const { return counts_; }
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

class PrometheusText {
 public:
  // Starts a family: "# HELP name help" and "# TYPE name type" (counter,
  // gauge or histogram).
  void Family(absl::string_view name, absl::string_view help,
              absl::string_view type);
  // name{labels} value
  void Sample(absl::string_view name, const MetricLabels& labels, double value);
  // name_bucket{labels,le="..."} cumulative counts, name_sum and name_count.
  void Observations(absl::string_view name, const MetricLabels& labels,
                    const Histogram& histogram);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_PROMETHEUS_TEXT_H_
