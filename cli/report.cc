#include "cli/report.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/base/enum_label.h"
#include "google/protobuf/util/json_util.h"

namespace smarketing::cli {
namespace {

// ---- Escaping -------------------------------------------------------------

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

// For attributes and text alike. XML 1.0 cannot carry control characters
// other than tab and line breaks, even escaped: they become U+FFFD.
std::string XmlEscape(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
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
        out += "&apos;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        if (c < 0x20) {
          out += "\xEF\xBF\xBD";
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

// Text content keeps its line breaks readable.
std::string XmlText(absl::string_view text) {
  return absl::StrReplaceAll(XmlEscape(text), {{"&#10;", "\n"}});
}

// GitHub workflow commands: the message escapes %, CR and LF; property
// values (file, title) also the separators : and ,.
std::string GithubEscapeData(absl::string_view text) {
  return absl::StrReplaceAll(text,
                             {{"%", "%25"}, {"\r", "%0D"}, {"\n", "%0A"}});
}

std::string GithubEscapeProperty(absl::string_view text) {
  return absl::StrReplaceAll(
      text,
      {{"%", "%25"}, {"\r", "%0D"}, {"\n", "%0A"}, {":", "%3A"}, {",", "%2C"}});
}

// ::error file=F,line=L,col=C,title=T::message
std::string GithubCommand(absl::string_view command, absl::string_view file,
                          int line, int column, absl::string_view title,
                          absl::string_view message) {
  std::vector<std::string> properties;
  if (!file.empty())
    properties.push_back(absl::StrCat("file=", GithubEscapeProperty(file)));
  if (!file.empty() && line > 0) {
    properties.push_back(absl::StrCat("line=", line));
    if (column > 0) properties.push_back(absl::StrCat("col=", column));
  }
  if (!title.empty())
    properties.push_back(absl::StrCat("title=", GithubEscapeProperty(title)));
  return absl::StrCat("::", command, properties.empty() ? "" : " ",
                      absl::StrJoin(properties, ","),
                      "::", GithubEscapeData(message), "\n");
}

// ---- Numbers and places ---------------------------------------------------

// Scores with at most two decimals: "72.4", "100".
std::string Num(double value) {
  std::string s = absl::StrFormat("%.2f", value);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

std::string Signed(double value) {
  return value > 0 ? absl::StrCat("+", Num(value)) : Num(value);
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole == 0) return "0%";
  return absl::StrCat(
      Num(100.0 * static_cast<double>(part) / static_cast<double>(whole)), "%");
}

// The shortest text that reads back to the same double, for JSON.
std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

// "file:line:column", omitting what is unknown.
std::string Place(absl::string_view file, int line, int column) {
  std::string out(file);
  if (line > 0) absl::StrAppend(&out, ":", line, ":", column);
  return out;
}

std::string Place(absl::string_view file, const SourcePosition& p) {
  return Place(file, p.line, p.column);
}

std::string StageLabel(v1::LifecycleStage stage) {
  return EnumLabel(v1::LifecycleStage_descriptor(), stage);
}

std::string ScoreResultJson(const v1::ScoreResult& result) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(result, &json, options);
  return json;
}

// ---- Text styles ----------------------------------------------------------

class Style {
 public:
  explicit Style(bool color) : color_(color) {}
  std::string Red(absl::string_view s) const { return Wrap("31", s); }
  std::string Green(absl::string_view s) const { return Wrap("32", s); }
  std::string Yellow(absl::string_view s) const { return Wrap("33", s); }
  std::string Bold(absl::string_view s) const { return Wrap("1", s); }
  std::string Dim(absl::string_view s) const { return Wrap("2", s); }

 private:
  std::string Wrap(absl::string_view code, absl::string_view s) const {
    if (!color_) return std::string(s);
    return absl::StrCat("\x1b[", code, "m", s, "\x1b[0m");
  }
  bool color_;
};

// ---- JSON -----------------------------------------------------------------

// Writes one JSON document, compactly; commas are placed automatically.
class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(absl::string_view key) {
    Separate();
    absl::StrAppend(&out_, JsonQuote(key), ":");
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(absl::string_view s) { return Raw(JsonQuote(s)); }
  JsonWriter& Number(double d) { return Raw(JsonNumber(d)); }
  JsonWriter& Int(int64_t n) { return Raw(absl::StrCat(n)); }
  JsonWriter& Bool(bool b) { return Raw(b ? "true" : "false"); }
  JsonWriter& Raw(absl::string_view json) {
    Separate();
    out_.append(json.data(), json.size());
    return *this;
  }
  // Key and value at once.
  JsonWriter& Field(absl::string_view key, absl::string_view s) {
    return Key(key).String(s);
  }
  JsonWriter& Field(absl::string_view key, const char* s) {
    return Key(key).String(s);
  }
  JsonWriter& Field(absl::string_view key, const std::string& s) {
    return Key(key).String(s);
  }
  JsonWriter& Field(absl::string_view key, int64_t n) {
    return Key(key).Int(n);
  }
  JsonWriter& Field(absl::string_view key, int n) { return Key(key).Int(n); }
  JsonWriter& Field(absl::string_view key, double d) {
    return Key(key).Number(d);
  }
  JsonWriter& Field(absl::string_view key, bool b) { return Key(key).Bool(b); }

  std::string Finish() { return absl::StrCat(out_, "\n"); }

 private:
  JsonWriter& Open(char c) {
    Separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char c) {
    out_ += c;
    first_.pop_back();
    return *this;
  }
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

void ProblemsJson(const std::vector<v1::ValidationProblem>& problems,
                  JsonWriter* w) {
  w->BeginArray();
  for (const v1::ValidationProblem& p : problems) {
    w->BeginObject()
        .Field("file", p.file())
        .Field("line", p.line())
        .Field("column", p.column())
        .Field("path", p.path())
        .Field("message", p.message())
        .EndObject();
  }
  w->EndArray();
}

std::string ProblemLines(const std::vector<v1::ValidationProblem>& problems) {
  std::string out;
  for (const v1::ValidationProblem& p : problems) {
    absl::StrAppend(&out, FormatProblem(p), "\n");
  }
  return out;
}

void GithubProblems(const std::vector<v1::ValidationProblem>& problems,
                    absl::string_view fallback_file, std::string* out) {
  for (const v1::ValidationProblem& p : problems) {
    const std::string message = p.path().empty()
                                    ? p.message()
                                    : absl::StrCat(p.path(), ": ", p.message());
    absl::StrAppend(
        out, GithubCommand("error", p.file().empty() ? fallback_file : p.file(),
                           p.line(), p.column(), "Invalid Playbook", message));
  }
}

// ---- JUnit XML ------------------------------------------------------------

struct JunitCase {
  std::string name;
  std::string classname;
  std::string file;
  int line = 0;
  // Set when the case failed: a one-line message and the details.
  std::optional<std::string> failure;
  std::string details;
  std::string system_out;
};

struct JunitSuite {
  std::string name;
  absl::Duration elapsed;
  std::vector<JunitCase> cases;
};

int Failures(const JunitSuite& suite) {
  return static_cast<int>(
      std::count_if(suite.cases.begin(), suite.cases.end(),
                    [](const JunitCase& c) { return c.failure.has_value(); }));
}

std::string Seconds(absl::Duration d) {
  return absl::StrFormat("%.3f", absl::ToDoubleSeconds(d));
}

std::string Junit(absl::string_view name,
                  const std::vector<JunitSuite>& suites) {
  int tests = 0, failures = 0;
  absl::Duration elapsed;
  for (const JunitSuite& s : suites) {
    tests += static_cast<int>(s.cases.size());
    failures += Failures(s);
    elapsed += s.elapsed;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  absl::StrAppend(&out, "<testsuites name=\"", XmlEscape(name), "\" tests=\"",
                  tests, "\" failures=\"", failures, "\" errors=\"0\" time=\"",
                  Seconds(elapsed), "\">\n");
  for (const JunitSuite& s : suites) {
    absl::StrAppend(&out, "  <testsuite name=\"", XmlEscape(s.name),
                    "\" tests=\"", s.cases.size(), "\" failures=\"",
                    Failures(s), "\" errors=\"0\" skipped=\"0\" time=\"",
                    Seconds(s.elapsed), "\">\n");
    for (const JunitCase& c : s.cases) {
      absl::StrAppend(&out, "    <testcase name=\"", XmlEscape(c.name),
                      "\" classname=\"", XmlEscape(c.classname), "\"");
      if (!c.file.empty())
        absl::StrAppend(&out, " file=\"", XmlEscape(c.file), "\"");
      if (c.line > 0) absl::StrAppend(&out, " line=\"", c.line, "\"");
      if (!c.failure.has_value() && c.system_out.empty()) {
        out += "/>\n";
        continue;
      }
      out += ">\n";
      if (c.failure.has_value()) {
        absl::StrAppend(&out, "      <failure message=\"",
                        XmlEscape(*c.failure), "\" type=\"failure\">",
                        XmlText(c.details), "</failure>\n");
      }
      if (!c.system_out.empty()) {
        absl::StrAppend(&out, "      <system-out>", XmlText(c.system_out),
                        "</system-out>\n");
      }
      out += "    </testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

// ---- test -----------------------------------------------------------------

std::string FailureLine(const ExpectationFailure& f) {
  return absl::StrCat(f.field, ": expected ", f.expected, ", got ", f.actual);
}

// What the Playbook decided, on one line.
std::string DecisionLine(const v1::ScoreResult& r) {
  std::string out = absl::StrCat(
      "decided: fit ", Num(r.fit_score()), " (grade ",
      r.grade().empty() ? "-" : r.grade(), ", persona ",
      r.persona_id().empty() ? "-" : r.persona_id(), "), engagement ",
      Num(r.engagement_score()), ", total ", Num(r.total_score()), ", stage ",
      StageLabel(r.recommended_stage()), ", priority ",
      EnumLabel(v1::Priority_descriptor(), r.priority()));
  if (r.has_routing()) {
    absl::StrAppend(
        &out, ", team ", r.routing().team_id(), ", owner ",
        r.routing().owner_id().empty() ? "-" : r.routing().owner_id());
  }
  return out;
}

// The decision and its explanation, for a failed case.
std::string Decision(const v1::ScoreResult& r, absl::string_view indent) {
  std::string out = absl::StrCat(indent, DecisionLine(r), "\n");
  if (r.explanation().empty()) return out;
  absl::StrAppend(&out, indent, "explanation:\n");
  for (const v1::RuleHit& hit : r.explanation()) {
    absl::StrAppend(&out, indent, "  ", hit.rule_id(), ": ", hit.sentence(),
                    "\n");
  }
  return out;
}

std::string CaseDetails(const std::string& file, const GoldenCaseOutcome& o) {
  std::string out;
  for (const ExpectationFailure& f : o.failures) {
    absl::StrAppend(&out, FailureLine(f), " (", Place(file, f.position), ")\n");
  }
  absl::StrAppend(&out, Decision(o.result, ""));
  return out;
}

int CountPassed(const TestReport& report, bool passed) {
  int n = 0;
  for (const TestReport::Suite& s : report.suites) {
    for (const GoldenCaseOutcome& o : s.outcomes) n += o.passed() == passed;
  }
  return n;
}

// ---- diff -----------------------------------------------------------------

std::string ChangeTitle(const RuleChange& c) {
  std::string out = c.section;
  if (!c.id.empty()) absl::StrAppend(&out, " \"", c.id, "\"");
  return out;
}

std::string FieldLine(const FieldChange& f) {
  if (f.before.empty()) return absl::StrCat(f.field, ": ", f.after);
  if (f.after.empty()) return absl::StrCat(f.field, ": ", f.before);
  return absl::StrCat(f.field, ": ", f.before, " -> ", f.after);
}

std::string ChangeSummary(const RuleChange& c) {
  std::string out = absl::StrCat(ChangeTitle(c), " ", ChangeKindName(c.kind));
  if (!c.fields.empty()) {
    std::vector<std::string> lines;
    for (const FieldChange& f : c.fields) lines.push_back(FieldLine(f));
    absl::StrAppend(&out, ": ", absl::StrJoin(lines, "; "));
  }
  return out;
}

std::string MatrixText(absl::string_view title, const TransitionMatrix& m,
                       const Style& style) {
  std::string out =
      absl::StrCat("  ", style.Bold(title),
                   style.Dim(" (rows: before, columns: after)"), "\n");
  size_t width = 6;
  for (const std::string& label : m.labels)
    width = std::max(width, label.size());
  for (const auto& row : m.counts) {
    for (int64_t n : row) width = std::max(width, absl::StrCat(n).size());
  }
  absl::StrAppend(&out, "    ", std::string(width, ' '));
  for (const std::string& label : m.labels) {
    absl::StrAppend(&out, "  ",
                    absl::StrFormat("%*s", static_cast<int>(width), label));
  }
  out += "\n";
  for (size_t i = 0; i < m.labels.size(); ++i) {
    absl::StrAppend(
        &out, "    ",
        absl::StrFormat("%-*s", static_cast<int>(width), m.labels[i]));
    for (size_t j = 0; j < m.counts[i].size(); ++j) {
      const std::string cell =
          absl::StrFormat("%*d", static_cast<int>(width), m.counts[i][j]);
      absl::StrAppend(&out, "  ",
                      i != j && m.counts[i][j] > 0 ? style.Yellow(cell) : cell);
    }
    out += "\n";
  }
  return out;
}

std::string LeadDeltaLine(const LeadDelta& d) {
  std::string out = absl::StrCat(
      d.lead_id, " (line ", d.line, "): total ", Num(d.total_before), " -> ",
      Num(d.total_after), " (", Signed(d.delta()), ")");
  if (d.grade_before != d.grade_after) {
    absl::StrAppend(&out, ", grade ", d.grade_before, " -> ", d.grade_after);
  }
  if (d.stage_before != d.stage_after) {
    absl::StrAppend(&out, ", stage ", StageLabel(d.stage_before), " -> ",
                    StageLabel(d.stage_after));
  }
  if (d.team_before != d.team_after) {
    absl::StrAppend(&out, ", team ", d.team_before, " -> ", d.team_after);
  }
  return out;
}

std::string LimitLine(const LimitCheck& l) {
  return absl::StrCat(l.what, ": ", l.changed, " of ", l.total, " leads (",
                      Percent(l.changed, l.total), "), limit ",
                      FormatLimit(l.limit), " (", l.flag, ")");
}

bool DiffFailed(const DiffReport& r) {
  if (!r.new_problems.empty()) return true;
  for (const LimitCheck& l : r.limits) {
    if (l.exceeded) return true;
  }
  return false;
}

std::string ChangesText(const DiffReport& r, const Style& style) {
  int added = 0, removed = 0, changed = 0;
  for (const RuleChange& c : r.changes) {
    added += c.kind == ChangeKind::kAdded;
    removed += c.kind == ChangeKind::kRemoved;
    changed += c.kind == ChangeKind::kChanged;
  }
  std::string out = absl::StrCat(style.Bold("Rules"), ": ");
  if (r.changes.empty()) return absl::StrCat(out, "no change\n");
  absl::StrAppend(&out, changed, " changed, ", added, " added, ", removed,
                  " removed\n");
  for (const RuleChange& c : r.changes) {
    const std::string kind = std::string(ChangeKindName(c.kind));
    const std::string padded = absl::StrFormat("%-8s", kind);
    const std::string where = c.kind == ChangeKind::kRemoved
                                  ? Place(r.old_name, c.position)
                                  : Place(r.new_name, c.position);
    absl::StrAppend(&out, "  ",
                    c.kind == ChangeKind::kAdded     ? style.Green(padded)
                    : c.kind == ChangeKind::kRemoved ? style.Red(padded)
                                                     : style.Yellow(padded),
                    " ", ChangeTitle(c), "  ", style.Dim(where), "\n");
    for (const FieldChange& f : c.fields) {
      absl::StrAppend(&out, "             ", FieldLine(f), "\n");
    }
  }
  return out;
}

std::string ImpactText(const DiffReport& r, const Style& style) {
  const LeadImpact& impact = *r.impact;
  std::string out = absl::StrCat(
      style.Bold("Lead impact"), ": ", impact.leads, " leads of ", r.leads_file,
      " scored at ",
      absl::FormatTime(absl::RFC3339_sec, r.now, absl::UTCTimeZone()), "\n");
  if (impact.refused > 0) {
    absl::StrAppend(&out, "  ",
                    style.Red(absl::StrCat(impact.refused, " records refused")),
                    ":\n");
    for (const std::string& e : impact.errors)
      absl::StrAppend(&out, "    ", e, "\n");
    if (impact.refused > static_cast<int64_t>(impact.errors.size())) {
      absl::StrAppend(&out, "    ...\n");
    }
  }
  auto count = [&](absl::string_view what, int64_t n) {
    absl::StrAppend(&out, "  ", absl::StrFormat("%-16s", what),
                    absl::StrFormat("%10d", n), "  (", Percent(n, impact.leads),
                    ")\n");
  };
  count("grade changed", impact.grades.changed());
  count("stage changed", impact.stages.changed());
  if (impact.routed) count("team changed", impact.teams.changed());
  count("any of these", impact.changed_leads);
  count("score changed", impact.score_changes);
  out += "\n";
  absl::StrAppend(&out, MatrixText("Stage", impact.stages, style));
  absl::StrAppend(&out, MatrixText("Grade", impact.grades, style));
  if (impact.routed)
    absl::StrAppend(&out, MatrixText("Team", impact.teams, style));
  if (!impact.largest.empty()) {
    absl::StrAppend(&out, "  ", style.Bold("Largest changes"),
                    style.Dim(" (by total score, then file order)"), "\n");
    for (const LeadDelta& d : impact.largest) {
      absl::StrAppend(&out, "    ", LeadDeltaLine(d), "\n");
    }
  }
  return out;
}

std::string LimitsText(const DiffReport& r, const Style& style) {
  if (r.limits.empty()) return "";
  std::string out = absl::StrCat(style.Bold("Limits"), "\n");
  for (const LimitCheck& l : r.limits) {
    absl::StrAppend(
        &out, "  ",
        l.exceeded ? style.Red("EXCEEDED") : style.Green("ok      "), "  ",
        LimitLine(l), "\n");
  }
  return out;
}

std::string DiffText(const DiffReport& r, const Style& style) {
  std::string out = absl::StrCat(
      style.Bold("Playbook diff"), ": ", r.old_name,
      r.old_version.empty() ? "" : absl::StrCat(" (", r.old_version, ")"),
      " -> ", r.new_name,
      r.new_version.empty() ? "" : absl::StrCat(" (", r.new_version, ")"),
      "\n");
  if (!r.new_problems.empty()) {
    absl::StrAppend(
        &out, style.Red(absl::StrCat(r.new_name, " is not a valid Playbook")),
        ":\n", ProblemLines(r.new_problems));
    return out;
  }
  absl::StrAppend(&out, "\n", ChangesText(r, style));
  if (r.impact.has_value()) absl::StrAppend(&out, "\n", ImpactText(r, style));
  if (!r.limits.empty()) absl::StrAppend(&out, "\n", LimitsText(r, style));
  return out;
}

void MatrixJson(const TransitionMatrix& m, JsonWriter* w) {
  w->BeginObject().Key("labels").BeginArray();
  for (const std::string& label : m.labels) w->String(label);
  w->EndArray().Key("counts").BeginArray();
  for (const auto& row : m.counts) {
    w->BeginArray();
    for (int64_t n : row) w->Int(n);
    w->EndArray();
  }
  w->EndArray().Field("changed", m.changed()).EndObject();
}

// The rule changes of `diff`, with where each is in its file.
void RuleChangesJson(const DiffReport& r, JsonWriter* w) {
  w->Key("changes").BeginArray();
  for (const RuleChange& c : r.changes) {
    w->BeginObject()
        .Field("kind", ChangeKindName(c.kind))
        .Field("section", c.section)
        .Field("id", c.id)
        .Field("path", c.path)
        .Field("file", c.kind == ChangeKind::kRemoved ? r.old_name : r.new_name)
        .Field("line", c.position.line)
        .Field("column", c.position.column);
    w->Key("fields").BeginArray();
    for (const FieldChange& f : c.fields) {
      w->BeginObject()
          .Field("field", f.field)
          .Field("before", f.before)
          .Field("after", f.after)
          .Field("line", f.position.line)
          .Field("column", f.position.column)
          .EndObject();
    }
    w->EndArray().EndObject();
  }
  w->EndArray();
}

void LeadDeltaJson(const LeadDelta& d, bool routed, JsonWriter* w) {
  w->BeginObject()
      .Field("lead_id", d.lead_id)
      .Field("line", d.line)
      .Field("total_before", d.total_before)
      .Field("total_after", d.total_after)
      .Field("delta", d.delta())
      .Field("grade_before", d.grade_before)
      .Field("grade_after", d.grade_after)
      .Field("stage_before", StageLabel(d.stage_before))
      .Field("stage_after", StageLabel(d.stage_after));
  if (routed) {
    w->Field("team_before", d.team_before).Field("team_after", d.team_after);
  }
  w->EndObject();
}

// What the change does to the sample of leads.
void LeadImpactJson(const DiffReport& r, JsonWriter* w) {
  const LeadImpact& impact = *r.impact;
  w->Key("impact")
      .BeginObject()
      .Field("leads_file", r.leads_file)
      .Field("now",
             absl::FormatTime(absl::RFC3339_full, r.now, absl::UTCTimeZone()))
      .Field("leads", impact.leads)
      .Field("refused", impact.refused);
  w->Key("errors").BeginArray();
  for (const std::string& e : impact.errors) w->String(e);
  w->EndArray();
  w->Field("grade_changes", impact.grades.changed())
      .Field("stage_changes", impact.stages.changed());
  if (impact.routed) w->Field("team_changes", impact.teams.changed());
  w->Field("changed_leads", impact.changed_leads)
      .Field("score_changes", impact.score_changes);
  w->Key("grades");
  MatrixJson(impact.grades, w);
  w->Key("stages");
  MatrixJson(impact.stages, w);
  if (impact.routed) {
    w->Key("teams");
    MatrixJson(impact.teams, w);
  }
  w->Key("largest").BeginArray();
  for (const LeadDelta& d : impact.largest) LeadDeltaJson(d, impact.routed, w);
  w->EndArray().EndObject();
}

std::string DiffJson(const DiffReport& r) {
  JsonWriter w;
  w.BeginObject().Field("command", "diff").Field("ok", !DiffFailed(r));
  w.Key("old")
      .BeginObject()
      .Field("name", r.old_name)
      .Field("version", r.old_version)
      .EndObject();
  w.Key("new")
      .BeginObject()
      .Field("name", r.new_name)
      .Field("version", r.new_version);
  w.Key("problems");
  ProblemsJson(r.new_problems, &w);
  w.EndObject();
  RuleChangesJson(r, &w);
  if (r.impact.has_value()) LeadImpactJson(r, &w);
  w.Key("limits").BeginArray();
  for (const LimitCheck& l : r.limits) {
    w.BeginObject()
        .Field("flag", l.flag)
        .Field("what", l.what)
        .Field("limit", FormatLimit(l.limit))
        .Field("changed", l.changed)
        .Field("total", l.total)
        .Field("exceeded", l.exceeded)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.Finish();
}

std::string DiffJunit(const DiffReport& r) {
  JunitSuite suite;
  suite.name = absl::StrCat("diff ", r.old_name, " ", r.new_name);
  const std::string classname = "smarketing.diff";
  JunitCase& valid = suite.cases.emplace_back();
  valid.name = absl::StrCat(r.new_name, " is a valid Playbook");
  valid.classname = classname;
  valid.file = r.new_name;
  if (!r.new_problems.empty()) {
    valid.failure =
        absl::StrCat(r.new_problems.size(),
                     r.new_problems.size() == 1 ? " problem" : " problems");
    valid.details = ProblemLines(r.new_problems);
    return Junit("smarketing diff", {suite});
  }
  const Style plain(false);
  JunitCase& rules = suite.cases.emplace_back();
  rules.name = "rule changes";
  rules.classname = classname;
  rules.system_out = ChangesText(r, plain);
  if (r.impact.has_value()) {
    JunitCase& impact = suite.cases.emplace_back();
    impact.name = absl::StrCat("lead impact on ", r.leads_file);
    impact.classname = classname;
    impact.system_out = ImpactText(r, plain);
    if (r.impact->refused > 0) {
      impact.failure = absl::StrCat(r.impact->refused, " records refused");
      impact.details = absl::StrJoin(r.impact->errors, "\n");
    }
  }
  for (const LimitCheck& l : r.limits) {
    JunitCase& c = suite.cases.emplace_back();
    c.name = absl::StrCat(l.what, " within ", FormatLimit(l.limit));
    c.classname = classname;
    if (l.exceeded) {
      c.failure = LimitLine(l);
      c.details = LimitLine(l);
    }
  }
  return Junit("smarketing diff", {suite});
}

std::string DiffGithub(const DiffReport& r) {
  std::string out;
  if (!r.new_problems.empty()) {
    GithubProblems(r.new_problems, r.new_name, &out);
  } else {
    for (const RuleChange& c : r.changes) {
      if (c.kind == ChangeKind::kRemoved) {
        // Its line is in the old Playbook, which the pull request no longer
        // shows: the notice goes on the file.
        out += GithubCommand("notice", r.new_name, 0, 0, "Playbook change",
                             absl::StrCat(ChangeSummary(c), " (was at ",
                                          Place(r.old_name, c.position), ")"));
      } else {
        out += GithubCommand("notice", r.new_name, c.position.line,
                             c.position.column, "Playbook change",
                             ChangeSummary(c));
      }
    }
    if (r.impact.has_value()) {
      for (const std::string& e : r.impact->errors) {
        out += GithubCommand("error", "", 0, 0, "Lead refused", e);
      }
    }
    for (const LimitCheck& l : r.limits) {
      if (l.exceeded) {
        out += GithubCommand("error", r.new_name, 0, 0,
                             "Lead impact over the limit", LimitLine(l));
      }
    }
  }
  // The report itself, for the job's log.
  absl::StrAppend(&out, DiffText(r, Style(false)));
  return out;
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text == "text") return OutputFormat::kText;
  if (text == "json") return OutputFormat::kJson;
  if (text == "junit") return OutputFormat::kJunit;
  if (text == "github") return OutputFormat::kGithub;
  return absl::InvalidArgumentError(
      absl::StrCat("--format: unknown format \"", text,
                   "\"; expected text, json, junit or github"));
}

bool UseColor() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  return ::isatty(STDOUT_FILENO) == 1;
}

std::string ValidateProblemsText(const ValidateReport& report) {
  std::string out;
  for (const ValidateReport::File& f : report.files) {
    absl::StrAppend(&out, ProblemLines(f.problems));
  }
  return out;
}

std::string RenderValidate(const ValidateReport& report, OutputFormat format,
                           bool color) {
  const Style style(color);
  switch (format) {
    case OutputFormat::kText: {
      std::string out;
      for (const ValidateReport::File& f : report.files) {
        if (f.problems.empty()) {
          absl::StrAppend(&out, f.path, ": ", style.Green("ok"), " (",
                          f.version, ")\n");
        }
      }
      return out;
    }
    case OutputFormat::kJson: {
      JsonWriter w;
      bool ok = true;
      for (const ValidateReport::File& f : report.files)
        ok &= f.problems.empty();
      w.BeginObject().Field("command", "validate").Field("ok", ok);
      w.Key("files").BeginArray();
      for (const ValidateReport::File& f : report.files) {
        w.BeginObject()
            .Field("file", f.path)
            .Field("ok", f.problems.empty())
            .Field("version", f.version);
        w.Key("problems");
        ProblemsJson(f.problems, &w);
        w.EndObject();
      }
      w.EndArray().EndObject();
      return w.Finish();
    }
    case OutputFormat::kJunit: {
      JunitSuite suite;
      suite.name = "validate";
      for (const ValidateReport::File& f : report.files) {
        JunitCase& c = suite.cases.emplace_back();
        c.name = f.path;
        c.classname = "smarketing.validate";
        c.file = f.path;
        if (!f.problems.empty()) {
          c.failure =
              absl::StrCat(f.problems.size(),
                           f.problems.size() == 1 ? " problem" : " problems");
          c.details = ProblemLines(f.problems);
        }
      }
      return Junit("smarketing validate", {suite});
    }
    case OutputFormat::kGithub: {
      std::string out;
      for (const ValidateReport::File& f : report.files) {
        if (f.problems.empty()) {
          absl::StrAppend(&out, f.path, ": ok (", f.version, ")\n");
        } else {
          GithubProblems(f.problems, f.path, &out);
        }
      }
      return out;
    }
  }
  return "";
}

namespace {

// The text report, with GitHub workflow commands before each file's cases
// when `format` is kGithub.
std::string TestText(const TestReport& report, OutputFormat format,
                     const Style& style, int passed, int failed) {
  std::string out;
  for (const TestReport::Suite& s : report.suites) {
    if (format == OutputFormat::kGithub) {
      for (const GoldenCaseOutcome& o : s.outcomes) {
        for (const ExpectationFailure& f : o.failures) {
          out += GithubCommand(
              "error", s.file, f.position.line, f.position.column,
              absl::StrCat("Golden case ", o.name, " failed"),
              absl::StrCat(FailureLine(f), "\n", DecisionLine(o.result)));
        }
      }
    }
    absl::StrAppend(&out, style.Bold(absl::StrCat("Golden cases of ", s.file)),
                    " with ", report.playbook_version, " (", report.playbook,
                    ")\n");
    for (const GoldenCaseOutcome& o : s.outcomes) {
      if (o.passed()) {
        absl::StrAppend(&out, "  ", style.Green("PASS"), "  ", o.name, "\n");
        continue;
      }
      absl::StrAppend(&out, "  ", style.Red("FAIL"), "  ", o.name, "  ",
                      style.Dim(Place(s.file, o.position)), "\n");
      for (const ExpectationFailure& f : o.failures) {
        absl::StrAppend(&out, "        ", FailureLine(f), "  ",
                        style.Dim(Place(s.file, f.position)), "\n");
      }
      absl::StrAppend(&out, Decision(o.result, "        "));
    }
  }
  absl::StrAppend(
      &out,
      failed ? style.Red(absl::StrCat(passed, " passed, ", failed, " failed"))
             : style.Green(absl::StrCat(passed, " passed, 0 failed")),
      "\n");
  return out;
}

std::string TestJson(const TestReport& report, int passed, int failed) {
  JsonWriter w;
  w.BeginObject()
      .Field("command", "test")
      .Field("ok", failed == 0)
      .Field("playbook", report.playbook)
      .Field("version", report.playbook_version)
      .Field("passed", passed)
      .Field("failed", failed);
  w.Key("suites").BeginArray();
  for (const TestReport::Suite& s : report.suites) {
    w.BeginObject().Field("file", s.file);
    w.Key("cases").BeginArray();
    for (const GoldenCaseOutcome& o : s.outcomes) {
      w.BeginObject()
          .Field("name", o.name)
          .Field("line", o.position.line)
          .Field("column", o.position.column)
          .Field("passed", o.passed());
      w.Key("failures").BeginArray();
      for (const ExpectationFailure& f : o.failures) {
        w.BeginObject()
            .Field("field", f.field)
            .Field("expected", f.expected)
            .Field("actual", f.actual)
            .Field("path", f.path)
            .Field("line", f.position.line)
            .Field("column", f.position.column)
            .EndObject();
      }
      w.EndArray();
      w.Key("result").Raw(ScoreResultJson(o.result));
      w.EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return w.Finish();
}

std::string TestJunit(const TestReport& report) {
  std::vector<JunitSuite> suites;
  for (const TestReport::Suite& s : report.suites) {
    JunitSuite& suite = suites.emplace_back();
    suite.name = s.file;
    suite.elapsed = s.elapsed;
    for (const GoldenCaseOutcome& o : s.outcomes) {
      JunitCase& c = suite.cases.emplace_back();
      c.name = o.name;
      c.classname = s.file;
      c.file = s.file;
      c.line = o.position.line;
      if (!o.passed()) {
        c.failure =
            o.failures.size() == 1
                ? FailureLine(o.failures[0])
                : absl::StrCat(o.failures.size(), " expectations failed");
        c.details = CaseDetails(s.file, o);
      }
    }
  }
  return Junit("smarketing test", suites);
}

}  // namespace

std::string RenderTest(const TestReport& report, OutputFormat format,
                       bool color) {
  // Colour is for people at a terminal, never inside workflow commands' logs.
  const Style style(color && format == OutputFormat::kText);
  const int passed = CountPassed(report, true);
  const int failed = CountPassed(report, false);
  switch (format) {
    case OutputFormat::kText:
    case OutputFormat::kGithub:
      return TestText(report, format, style, passed, failed);
    case OutputFormat::kJson:
      return TestJson(report, passed, failed);
    case OutputFormat::kJunit:
      return TestJunit(report);
  }
  return "";
}

std::string RenderDiff(const DiffReport& report, OutputFormat format,
                       bool color) {
  switch (format) {
    case OutputFormat::kText:
      return DiffText(report, Style(color));
    case OutputFormat::kJson:
      return DiffJson(report);
    case OutputFormat::kJunit:
      return DiffJunit(report);
    case OutputFormat::kGithub:
      return DiffGithub(report);
  }
  return "";
}

}  // namespace smarketing::cli
