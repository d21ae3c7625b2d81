#include "core/review/review_render.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/base/enum_label.h"
#include "core/base/proto_time.h"

namespace smarketing {
namespace {

// The review laid out once as titled sections of lines and tables; each
// format then writes the same layout its own way.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
struct Section {
  std::string title;
  std::vector<std::string> lines;
  std::vector<std::pair<std::string, Table>> tables;
};

std::string Number(double v) {
  if (std::fabs(v - std::round(v)) < 1e-9) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.2f", v);
}

std::string Percent(double v) { return absl::StrFormat("%.1f%%", 100 * v); }

std::string Signed(double v, bool rate) {
  // No "-0.0": a change that rounds to nothing reads as none.
  if (std::fabs(rate ? 100 * v : v) < 0.05) v = 0;
  if (rate) return absl::StrFormat("%+.1f pts", 100 * v);
  return (v >= 0 ? "+" : "") + Number(v);
}

// "3 (+1 vs previous)", "n/a" when there is no data.
std::string FigureText(const v1::Figure& f, bool rate = false) {
  if (!f.available()) return "n/a";
  std::string text = rate ? Percent(f.value()) : Number(f.value());
  if (f.previous_available()) {
    absl::StrAppend(&text, " (", Signed(f.change(), rate), " vs previous)");
  }
  return text;
}

std::string Stage(v1::LifecycleStage stage) {
  return EnumLabel(v1::LifecycleStage_descriptor(), stage);
}

std::string Status(v1::ObjectiveStatus status) {
  return EnumLabel(v1::ObjectiveStatus_descriptor(), status);
}

bool IsRate(v1::ObjectiveMetric metric) {
  return metric == v1::OBJECTIVE_METRIC_MEETING_RATE ||
         metric == v1::OBJECTIVE_METRIC_SIGNING_RATE;
}

std::string Value(double v, v1::ObjectiveMetric metric) {
  return IsRate(metric) ? Percent(v) : Number(v);
}

std::string Rate(const v1::OnTimeRate& r) {
  if (r.due() == 0) return "n/a";
  return absl::StrCat(Percent(r.rate()), " (", r.on_time(), "/", r.due(), ")");
}

std::string Time(const google::protobuf::Timestamp& t,
                 const std::string& zone) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(zone, &tz)) tz = absl::UTCTimeZone();
  return absl::FormatTime("%Y-%m-%d %H:%M", TimeFromProto(t), tz);
}

std::string KeyCounts(
    const google::protobuf::RepeatedPtrField<v1::KeyCount>& counts) {
  if (counts.empty()) return "none";
  std::vector<std::string> parts;
  for (const v1::KeyCount& k : counts) {
    parts.push_back(
        absl::StrCat(k.key().empty() ? "(none)" : k.key(), " ", k.count()));
  }
  return absl::StrJoin(parts, ", ");
}

std::string Title(const v1::Review& review) {
  const std::string period =
      !review.period_label().empty()
          ? review.period_label()
          : absl::StrCat(Time(review.period_start(), review.time_zone()),
                         " to ", Time(review.period_end(), review.time_zone()));
  return absl::StrCat("Weekly review ", period);
}

std::string Subtitle(const v1::Review& review) {
  std::string text =
      absl::StrCat(review.time_zone(), ", Playbook ", review.playbook_version(),
                   ", as of ", Time(review.as_of(), review.time_zone()));
  const v1::ReviewFilter& f = review.filter();
  std::vector<std::string> filters;
  if (!f.team_id().empty()) filters.push_back("team " + f.team_id());
  if (!f.campaign().empty()) filters.push_back("campaign " + f.campaign());
  if (!f.source().empty()) filters.push_back("source " + f.source());
  if (!f.persona_id().empty()) filters.push_back("persona " + f.persona_id());
  if (!filters.empty())
    absl::StrAppend(&text, "; ", absl::StrJoin(filters, ", "));
  return text;
}

std::vector<std::string> ComplianceRow(const v1::SlaCompliance& c,
                                       const std::string& who) {
  return {
      who,
      absl::StrCat(c.mqls()),
      Rate(c.first_touch()),
      Rate(c.accept_or_reject()),
      Rate(c.feedback_after_meeting()),
      c.touched() > 0 ? absl::StrFormat("%.1f", c.median_hours_to_first_touch())
                      : "n/a",
      c.touched() > 0 ? absl::StrFormat("%.1f", c.p90_hours_to_first_touch())
                      : "n/a",
      absl::StrCat(c.breaches()),
      absl::StrCat(c.escalations())};
}

// Every objective with its progress.
Section ObjectivesSection(const v1::Review& review) {
  Section objectives;
  objectives.title = "Objectives";
  Table table{{"objective", "metric", "actual", "target", "done",
               "expected by now", "projection", "status", "Playbook"},
              {}};
  for (const v1::ObjectiveProgress& o : review.objectives()) {
    const std::string metric =
        EnumLabel(v1::ObjectiveMetric_descriptor(), o.metric());
    if (!o.available()) {
      table.rows.push_back({o.objective_id(), metric,
                            "n/a: " + o.unavailable_reason(),
                            Value(o.target(), o.metric()), "", "", "",
                            Status(o.status()), o.playbook_version()});
      continue;
    }
    table.rows.push_back(
        {o.objective_id(), metric, Value(o.actual(), o.metric()),
         Value(o.target(), o.metric()), Percent(o.share_done()),
         Value(o.expected_by_now(), o.metric()),
         Value(o.projection(), o.metric()), Status(o.status()),
         o.playbook_version()});
  }
  if (table.rows.empty()) {
    objectives.lines.push_back(
        "No objective of the Playbook covers the period.");
  } else {
    objectives.tables.emplace_back("", std::move(table));
  }
  // Which agreement was in force: objectives may come from a version
  // replaced during the period.
  Table versions{{"Playbook version", "number", "active from", "active until",
                  "activated by"},
                 {}};
  for (const v1::ReviewPlaybookVersion& v : review.playbook_versions()) {
    versions.rows.push_back(
        {v.label(), absl::StrCat(v.number()),
         v.has_active_from() ? Time(v.active_from(), review.time_zone()) : "",
         v.has_active_until() ? Time(v.active_until(), review.time_zone())
                              : "still active",
         v.activated_by()});
  }
  if (!versions.rows.empty()) {
    objectives.tables.emplace_back("", std::move(versions));
  }
  return objectives;
}

// Marketing's side of the SLA.
Section MarketingSection(const v1::Review& review) {
  Section marketing;
  const v1::MarketingScorecard& m = review.marketing();
  marketing.title = "Marketing: MQLs delivered";
  marketing.lines = {
      absl::StrCat("MQLs: ", FigureText(m.mqls()),
                   m.mql_target().available()
                       ? absl::StrCat("; objective for the period: ",
                                      Number(m.mql_target().value()))
                       : ""),
      absl::StrCat("Accepted by sales: ", FigureText(m.accepted()),
                   "; rejected: ", FigureText(m.rejected())),
      absl::StrCat("Acceptance rate: ", FigureText(m.acceptance_rate(), true)),
      absl::StrCat("Recycled to nurture: ", m.recycled(),
                   "; came back as MQL: ", m.requalified()),
      "MQLs by persona: " + KeyCounts(m.mqls_by_persona()),
      "MQLs by grade: " + KeyCounts(m.mqls_by_grade()),
      "MQLs by source: " + KeyCounts(m.mqls_by_source()),
      "MQLs by campaign: " + KeyCounts(m.mqls_by_campaign())};
  Table reasons{{"rejection reason", "count", "examples"}, {}};
  for (const v1::RejectionReasonCount& r : m.rejection_reasons()) {
    reasons.rows.push_back({r.reason_code(), absl::StrCat(r.count()),
                            absl::StrJoin(r.example_lead_ids(), ", ")});
  }
  if (!reasons.rows.empty())
    marketing.tables.emplace_back("", std::move(reasons));
  return marketing;
}

// Sales' side of the SLA, with the untreated MQLs.
Section SalesSection(const v1::Review& review) {
  Section sales;
  const v1::SalesScorecard& s = review.sales();
  sales.title = "Sales: follow-up under the SLA";
  sales.lines = {
      absl::StrCat("First touch on time: ",
                   FigureText(s.first_touch_rate(), true)),
      absl::StrCat(
          "Median business hours to first touch: ",
          s.median_hours_to_first_touch().available()
              ? absl::StrFormat("%.1f", s.median_hours_to_first_touch().value())
              : "n/a"),
      absl::StrCat("Untreated MQLs now: ", s.untreated_size())};
  Table compliance{
      {"team / owner", "MQLs", "first touch on time", "decision on time",
       "feedback on time", "median h", "p90 h", "breaches", "escalations"},
      {}};
  compliance.rows.push_back(ComplianceRow(s.total(), "all"));
  for (const v1::SlaCompliance& c : s.by_team()) {
    compliance.rows.push_back(ComplianceRow(c, c.team_id()));
  }
  for (const v1::SlaCompliance& c : s.by_owner()) {
    compliance.rows.push_back(ComplianceRow(
        c, absl::StrCat(c.team_id(), " / ",
                        c.owner_id().empty() ? "(queue)" : c.owner_id())));
  }
  sales.tables.emplace_back("", std::move(compliance));
  Table untreated{{"untreated lead", "team", "owner", "MQL since",
                   "business hours waiting", "SLA"},
                  {}};
  for (const v1::UntreatedLead& u : s.untreated()) {
    untreated.rows.push_back(
        {u.lead_id(), u.team_id(), u.owner_id(),
         Time(u.mql_at(), review.time_zone()),
         absl::StrFormat("%.1f", u.business_hours_waiting()),
         EnumLabel(v1::SlaState_descriptor(), u.sla_state())});
  }
  if (!untreated.rows.empty())
    sales.tables.emplace_back("", std::move(untreated));
  return sales;
}

// Stages entered, conversions and time in stage.
Section FunnelSection(const v1::Review& review) {
  Section funnel;
  const v1::FunnelReview& f = review.funnel();
  funnel.title = "Funnel and velocity";
  Table entered{{"stage", "entered", "median hours in stage"}, {}};
  for (const v1::StageCount& c : f.entered()) {
    std::string hours;
    for (const v1::StageTime& t : f.time_in_stage()) {
      if (t.stage() == c.stage() && t.median_hours().available()) {
        hours = absl::StrFormat("%.1f", t.median_hours().value());
      }
    }
    entered.rows.push_back({Stage(c.stage()), FigureText(c.entered()), hours});
  }
  funnel.tables.emplace_back("", std::move(entered));
  Table conversions{{"conversion", "period", "4 weeks", "12 weeks"}, {}};
  for (const v1::StageConversion& c : f.conversions()) {
    conversions.rows.push_back(
        {absl::StrCat(Stage(c.from()), " -> ", Stage(c.to())),
         FigureText(c.period(), true), Percent(c.trailing_4_weeks()),
         Percent(c.trailing_12_weeks())});
  }
  funnel.tables.emplace_back("", std::move(conversions));
  return funnel;
}

// The trend of the last 12 weeks.
Section WeeksSection(const v1::Review& review) {
  Section weeks;
  weeks.title = "Last 12 weeks, by the week leads became MQL";
  Table weekly{{"week", "MQLs", "accepted", "rejected", "acceptance",
                "meetings", "opportunities", "wins", "revenue"},
               {}};
  for (int i = 0; i < review.weekly_size(); ++i) {
    const v1::WeeklyPoint& w = review.weekly(i);
    const v1::FunnelCounts* loop = i < review.closed_loop_size()
                                       ? &review.closed_loop(i).total()
                                       : nullptr;
    weekly.rows.push_back(
        {w.week(), absl::StrCat(w.mqls()), absl::StrCat(w.accepted()),
         absl::StrCat(w.rejected()),
         w.accepted() + w.rejected() > 0 ? Percent(w.acceptance_rate()) : "n/a",
         loop ? absl::StrCat(loop->meetings()) : "",
         loop ? absl::StrCat(loop->opportunities()) : "",
         loop ? absl::StrCat(loop->wins()) : "",
         loop ? Number(loop->revenue()) : ""});
  }
  weeks.tables.emplace_back("", std::move(weekly));
  return weeks;
}

std::vector<Section> Layout(const v1::Review& review) {
  std::vector<Section> sections;
  sections.push_back(ObjectivesSection(review));
  sections.push_back(MarketingSection(review));
  sections.push_back(SalesSection(review));
  sections.push_back(FunnelSection(review));
  sections.push_back(WeeksSection(review));
  return sections;
}

std::string TextTable(const Table& t) {
  std::vector<size_t> widths(t.header.size(), 0);
  const auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(t.header);
  for (const auto& row : t.rows) measure(row);
  std::string out;
  const auto line = [&](const std::vector<std::string>& row) {
    std::string text = " ";
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&text, " ", row[i],
                      std::string(widths[i] - row[i].size(), ' '), " ");
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    absl::StrAppend(&out, text, "\n");
  };
  line(t.header);
  for (const auto& row : t.rows) line(row);
  return out;
}

std::string MarkdownCell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string Escape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// One horizontal bar per item, scaled to `max`, with an optional marker (a
// pace line) and the value written at the end.
struct Bar {
  std::string label;
  double value = 0;
  std::string text;
  double marker = -1;
  std::string color = "#3b6fb6";
};

std::string BarChart(const std::string& title, const std::vector<Bar>& bars,
                     double max) {
  if (bars.empty()) return "";
  constexpr int kLabel = 220, kWidth = 460, kRow = 26;
  const int height = static_cast<int>(bars.size()) * kRow + 10;
  if (max <= 0) max = 1;
  std::string svg = absl::StrFormat(
      "<svg class=\"chart\" role=\"img\" aria-label=\"%s\" width=\"%d\" "
      "height=\"%d\" viewBox=\"0 0 %d %d\">",
      Escape(title), kLabel + kWidth + 140, height, kLabel + kWidth + 140,
      height);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const int y = static_cast<int>(i) * kRow + 5;
    const double w = std::clamp(b.value / max, 0.0, 1.0) * kWidth;
    absl::StrAppendFormat(
        &svg,
        "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\" fill=\"#e8edf4\"/>"
        "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>"
        "<text x=\"%d\" y=\"%d\">%s</text>",
        kLabel - 8, y + 14, Escape(b.label), kLabel, y, kWidth, kLabel, y, w,
        b.color, kLabel + kWidth + 8, y + 14, Escape(b.text));
    if (b.marker >= 0) {
      const double x = kLabel + std::clamp(b.marker / max, 0.0, 1.0) * kWidth;
      absl::StrAppendFormat(&svg,
                            "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" "
                            "stroke=\"#222\" stroke-width=\"2\" "
                            "stroke-dasharray=\"3,2\"/>",
                            x, x, y - 2, y + 20);
    }
  }
  return svg + "</svg>";
}

std::string StatusColor(v1::ObjectiveStatus status) {
  switch (status) {
    case v1::OBJECTIVE_STATUS_ON_TRACK:
      return "#2e8b57";
    case v1::OBJECTIVE_STATUS_AT_RISK:
      return "#e0a100";
    case v1::OBJECTIVE_STATUS_OFF_TRACK:
      return "#c0392b";
    default:
      return "#9aa5b1";
  }
}

std::string ObjectivesChart(const v1::Review& review) {
  std::vector<Bar> bars;
  for (const v1::ObjectiveProgress& o : review.objectives()) {
    Bar b;
    b.label = o.objective_id();
    // Share of the target, the pace expected by now as the marker.
    b.value = o.available() ? o.share_done() : 0;
    b.marker = o.target() > 0 ? o.expected_by_now() / o.target() : -1;
    b.text = o.available() ? absl::StrCat(Percent(o.share_done()), " ",
                                          Status(o.status()))
                           : "no data";
    b.color = StatusColor(o.status());
    bars.push_back(b);
  }
  return BarChart(
      "Objectives: share of target done, dashed line the pace "
      "expected by now",
      bars, 1);
}

std::string FunnelChart(const v1::Review& review) {
  std::vector<Bar> bars;
  double max = 0;
  for (const v1::StageCount& c : review.funnel().entered()) {
    bars.push_back(
        {Stage(c.stage()), c.entered().value(), Number(c.entered().value())});
    max = std::max(max, c.entered().value());
  }
  return BarChart("Leads entering each stage", bars, max);
}

std::string OwnersChart(const v1::Review& review) {
  std::vector<Bar> bars;
  for (const v1::SlaCompliance& c : review.sales().by_owner()) {
    if (c.first_touch().due() == 0) continue;
    Bar b{absl::StrCat(c.team_id(), " / ",
                       c.owner_id().empty() ? "(queue)" : c.owner_id()),
          c.first_touch().rate(), Rate(c.first_touch())};
    b.color = c.first_touch().rate() >= 0.9   ? "#2e8b57"
              : c.first_touch().rate() >= 0.7 ? "#e0a100"
                                              : "#c0392b";
    bars.push_back(b);
  }
  return BarChart("First touch on time, per owner", bars, 1);
}

std::string ReasonsChart(const v1::Review& review) {
  std::vector<Bar> bars;
  double max = 0;
  for (const v1::RejectionReasonCount& r :
       review.marketing().rejection_reasons()) {
    bars.push_back({r.reason_code(), static_cast<double>(r.count()),
                    absl::StrCat(r.count()), -1, "#8e5ea2"});
    max = std::max(max, static_cast<double>(r.count()));
  }
  return BarChart("Rejection reasons", bars, max);
}

// Columns of MQLs per week and the acceptance rate as a line on its own
// 0-100% scale.
std::string WeeklyChart(const v1::Review& review) {
  if (review.weekly().empty()) return "";
  constexpr int kLeft = 40, kTop = 20, kHeight = 180, kColumn = 56;
  const int n = review.weekly_size();
  const int width = kLeft + n * kColumn + 50;
  double max = 1;
  for (const v1::WeeklyPoint& w : review.weekly()) {
    max = std::max(max, static_cast<double>(w.mqls()));
  }
  std::string svg = absl::StrFormat(
      "<svg class=\"chart\" role=\"img\" aria-label=\"MQLs per week and "
      "acceptance rate\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
      width, kTop + kHeight + 40, width, kTop + kHeight + 40);
  std::vector<std::string> points;
  for (int i = 0; i < n; ++i) {
    const v1::WeeklyPoint& w = review.weekly(i);
    const int x = kLeft + i * kColumn;
    const double h = w.mqls() / max * kHeight;
    absl::StrAppendFormat(
        &svg,
        "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
        "fill=\"#3b6fb6\"/><text x=\"%d\" y=\"%.1f\" "
        "text-anchor=\"middle\">%d</text><text x=\"%d\" y=\"%d\" "
        "text-anchor=\"middle\" class=\"small\">%s</text>",
        x + 6, kTop + kHeight - h, kColumn - 12, h, x + kColumn / 2,
        kTop + kHeight - h - 4, w.mqls(), x + kColumn / 2, kTop + kHeight + 16,
        Escape(
            w.week().substr(w.week().size() >= 3 ? w.week().size() - 3 : 0)));
    if (w.accepted() + w.rejected() > 0) {
      points.push_back(
          absl::StrFormat("%d,%.1f", x + kColumn / 2,
                          kTop + kHeight - w.acceptance_rate() * kHeight));
    }
  }
  if (!points.empty()) {
    absl::StrAppend(&svg,
                    "<polyline fill=\"none\" stroke=\"#e07b00\" "
                    "stroke-width=\"3\" points=\"",
                    absl::StrJoin(points, " "), "\"/>");
  }
  absl::StrAppendFormat(&svg,
                        "<text x=\"%d\" y=\"%d\" class=\"small\">bars: MQLs; "
                        "orange line: acceptance rate (0-100%%)</text></svg>",
                        kLeft, kTop + kHeight + 34);
  return svg;
}

std::string HtmlTable(const Table& t) {
  std::string out = "<table><thead><tr>";
  for (const auto& h : t.header)
    absl::StrAppend(&out, "<th>", Escape(h), "</th>");
  out += "</tr></thead><tbody>";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (const auto& cell : row)
      absl::StrAppend(&out, "<td>", Escape(cell), "</td>");
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

std::string Headline(const std::string& name, const std::string& label,
                     const std::string& value, const std::string& change) {
  return absl::StrCat("<div class=\"kpi\"><div class=\"label\">", Escape(label),
                      "</div><div class=\"value\" data-figure=\"", name, "\">",
                      Escape(value), "</div><div class=\"change\">",
                      Escape(change), "</div></div>");
}

std::string Change(const v1::Figure& f, bool rate) {
  if (!f.available() || !f.previous_available()) return "";
  return Signed(f.change(), rate) + " vs previous";
}

std::string FigureValue(const v1::Figure& f, bool rate) {
  if (!f.available()) return "n/a";
  return rate ? Percent(f.value()) : Number(f.value());
}

}  // namespace

std::string RenderReviewText(const v1::Review& review) {
  std::string out = absl::StrCat(Title(review), "\n", Subtitle(review), "\n");
  for (const Section& s : Layout(review)) {
    absl::StrAppend(&out, "\n", s.title, "\n");
    for (const auto& line : s.lines) absl::StrAppend(&out, "  ", line, "\n");
    for (const auto& [title, table] : s.tables) {
      if (!s.lines.empty() || &table != &s.tables.front().second) out += "\n";
      out += TextTable(table);
    }
  }
  return out;
}

std::string RenderReviewMarkdown(const v1::Review& review) {
  std::string out =
      absl::StrCat("# ", Title(review), "\n\n_", Subtitle(review), "_\n");
  for (const Section& s : Layout(review)) {
    absl::StrAppend(&out, "\n## ", s.title, "\n\n");
    for (const auto& line : s.lines) absl::StrAppend(&out, "- ", line, "\n");
    for (const auto& [title, table] : s.tables) {
      if (!s.lines.empty() || &table != &s.tables.front().second) out += "\n";
      std::vector<std::string> cells;
      for (const auto& h : table.header) cells.push_back(MarkdownCell(h));
      absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n|");
      for (size_t i = 0; i < table.header.size(); ++i) out += " --- |";
      out += "\n";
      for (const auto& row : table.rows) {
        cells.clear();
        for (const auto& c : row) cells.push_back(MarkdownCell(c));
        absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n");
      }
    }
  }
  return out;
}

std::string RenderReviewHtml(const v1::Review& review) {
  const v1::MarketingScorecard& m = review.marketing();
  const v1::SalesScorecard& s = review.sales();
  std::string out = absl::StrCat(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>",
      Escape(Title(review)),
      "</title><style>"
      "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;"
      "color:#1d2733;padding:0 1em}"
      "h1{margin-bottom:0}h2{border-bottom:2px solid "
      "#d5dde6;padding-bottom:4px;"
      "margin-top:1.6em}.sub{color:#5a6b7d}"
      ".kpis{display:flex;flex-wrap:wrap;gap:12px;margin:1em 0}"
      ".kpi{border:1px solid #d5dde6;border-radius:8px;padding:10px 16px;"
      "min-width:150px}.kpi .label{color:#5a6b7d;font-size:.85em}"
      ".kpi .value{font-size:1.8em;font-weight:600}.kpi .change{font-size:.8em;"
      "color:#5a6b7d}"
      "table{border-collapse:collapse;margin:.6em 0;font-size:.9em}"
      "th,td{border-bottom:1px solid #e3e8ee;padding:4px 10px;text-align:left}"
      "th{background:#f3f6f9}svg.chart{display:block;margin:.6em 0;"
      "font-size:12px}svg .small{font-size:10px;fill:#5a6b7d}"
      "ul{padding-left:1.2em}"
      "@media print{body{margin:0;max-width:none}h2{break-after:avoid}"
      "svg,table{break-inside:avoid}}"
      "</style></head><body><h1>",
      Escape(Title(review)), "</h1><p class=\"sub\">", Escape(Subtitle(review)),
      "</p><div class=\"kpis\">");
  absl::StrAppend(
      &out,
      Headline("mqls", "MQLs", FigureValue(m.mqls(), false),
               Change(m.mqls(), false)),
      Headline("accepted", "Accepted by sales",
               FigureValue(m.accepted(), false), Change(m.accepted(), false)),
      Headline("rejected", "Rejected by sales",
               FigureValue(m.rejected(), false), Change(m.rejected(), false)),
      Headline("acceptance_rate", "Acceptance rate",
               FigureValue(m.acceptance_rate(), true),
               Change(m.acceptance_rate(), true)),
      Headline("first_touch_rate", "First touch on time",
               FigureValue(s.first_touch_rate(), true),
               Change(s.first_touch_rate(), true)),
      Headline("untreated", "Untreated MQLs now",
               absl::StrCat(s.untreated_size()), ""),
      "</div>");
  const std::vector<Section> sections = Layout(review);
  const std::vector<std::string> charts = {
      ObjectivesChart(review), ReasonsChart(review), OwnersChart(review),
      FunnelChart(review), WeeklyChart(review)};
  for (size_t i = 0; i < sections.size(); ++i) {
    const Section& section = sections[i];
    absl::StrAppend(&out, "<section><h2>", Escape(section.title), "</h2>");
    if (i < charts.size()) out += charts[i];
    if (!section.lines.empty()) {
      out += "<ul>";
      for (const auto& line : section.lines) {
        absl::StrAppend(&out, "<li>", Escape(line), "</li>");
      }
      out += "</ul>";
    }
    for (const auto& [title, table] : section.tables) out += HtmlTable(table);
    out += "</section>";
  }
  return out + "</body></html>\n";
}

}  // namespace smarketing
