#include "grpc_server/prometheus_text.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace smarketing {
namespace {

// Backslash, double quote and line feed are escaped in label values; HELP
// text escapes backslash and line feed.
std::string Escape(absl::string_view s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Value(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  // The shortest of 15 or 17 digits that reads back as the same double.
  std::string text = absl::StrFormat("%.15g", v);
  if (std::strtod(text.c_str(), nullptr) != v)
    text = absl::StrFormat("%.17g", v);
  return text;
}

std::string Labels(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    absl::StrAppend(&out, i > 0 ? "," : "", labels[i].first, "=\"",
                    Escape(labels[i].second, true), "\"");
  }
  return out + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  const size_t i =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void PrometheusText::Family(absl::string_view name, absl::string_view help,
                            absl::string_view type) {
  absl::StrAppend(&text_, "# HELP ", name, " ", Escape(help, false), "\n",
                  "# TYPE ", name, " ", type, "\n");
}

void PrometheusText::Sample(absl::string_view name, const MetricLabels& labels,
                            double value) {
  absl::StrAppend(&text_, name, Labels(labels), " ", Value(value), "\n");
}

void PrometheusText::Observations(absl::string_view name,
                                  const MetricLabels& labels,
                                  const Histogram& histogram) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= histogram.bounds().size(); ++i) {
    cumulative += histogram.counts()[i];
    MetricLabels with_le = labels;
    with_le.emplace_back("le", i < histogram.bounds().size()
                                   ? Value(histogram.bounds()[i])
                                   : "+Inf");
    Sample(absl::StrCat(name, "_bucket"), with_le,
           static_cast<double>(cumulative));
  }
  Sample(absl::StrCat(name, "_sum"), labels, histogram.sum());
  Sample(absl::StrCat(name, "_count"), labels,
         static_cast<double>(histogram.count()));
}

}  // namespace smarketing
