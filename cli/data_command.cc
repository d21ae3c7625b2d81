// check-data: the leads a Playbook will score, checked against it before
// its scores silently mislead (core/checks/data_check.h). Leads are
// streamed, so files of any size are checked in bounded memory.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/playbook_source.h"
#include "core/base/problems.h"
#include "core/checks/data_check.h"
#include "core/journey/lead_engine.h"
#include "core/leads/lead_io.h"
#include "google/protobuf/struct.pb.h"

namespace smarketing::cli {
namespace {

// The rule's path with its file, line and column when the Playbook's source
// knows them ("scorecard.yaml:12:9: fit_rules[0].when.range").
v1::ValidationProblem Located(const PlaybookSource& source,
                              const DataProblem& p) {
  ProblemList list(&source.positions, source.file);
  list.Add(p.rule, p.message);
  return list.problems().problems(0);
}

std::string Text(const PlaybookSource& source, const DataProblem& p) {
  std::string line = absl::StrCat(IsWarning(p.kind) ? "warning" : "note", "[",
                                  DataProblemKindName(p.kind), "] ");
  if (!p.column.empty()) absl::StrAppend(&line, p.column, ": ");
  if (p.rule.empty()) {
    absl::StrAppend(&line, p.message);
  } else {
    absl::StrAppend(&line, FormatProblem(Located(source, p)));
  }
  return line + "\n";
}

std::string Json(const PlaybookSource& source,
                 const std::vector<DataProblem>& problems, int64_t leads) {
  google::protobuf::Struct root;
  auto& fields = *root.mutable_fields();
  fields["leads"].set_number_value(static_cast<double>(leads));
  auto* list = fields["problems"].mutable_list_value();
  for (const DataProblem& p : problems) {
    auto& f = *list->add_values()->mutable_struct_value()->mutable_fields();
    f["kind"].set_string_value(std::string(DataProblemKindName(p.kind)));
    f["severity"].set_string_value(IsWarning(p.kind) ? "warning" : "note");
    f["column"].set_string_value(p.column);
    f["rule"].set_string_value(p.rule);
    if (!p.rule.empty()) {
      const v1::ValidationProblem located = Located(source, p);
      f["line"].set_number_value(located.line());
      f["column_number"].set_number_value(located.column());
    }
    f["rows"].set_number_value(static_cast<double>(p.rows));
    f["example"].set_string_value(p.example);
    f["message"].set_string_value(p.message);
  }
  // Keys sorted, so that the same data always gives the same bytes.
  return ToStableJson(root) + "\n";
}

}  // namespace

int CheckData(const std::vector<std::string>& args, const Options& options) {
  if (args.size() != 2)
    return UsageError("check-data needs PLAYBOOK and LEADS");
  if (options.format != OutputFormat::kText &&
      options.format != OutputFormat::kJson) {
    return UsageError("check-data prints text or json");
  }
  absl::StatusOr<PlaybookSource> source = ReadPlaybookArgument(args[0]);
  absl::StatusOr<std::shared_ptr<const LeadEngine>> engine =
      source.ok() ? LeadEngine::Create(source->playbook, &source->positions,
                                       source->file)
                  : source.status();
  if (!engine.ok()) {
    if (auto problems = ProblemsFromStatus(engine.status())) {
      for (const v1::ValidationProblem& p : problems->problems()) {
        std::cerr << FormatProblem(p) << "\n";
      }
    } else {
      std::cerr << engine.status().message() << "\n";
    }
    return kUsageError;
  }
  auto reader =
      LeadReader::Open(args[1], std::nullopt, /*skip_unknown_columns=*/true);
  if (!reader.ok()) {
    std::cerr << reader.status().message() << "\n";
    return kUsageError;
  }
  DataChecker checker((*engine)->playbook());
  for (const std::string& column : (*reader)->unknown_columns()) {
    checker.AddUnknownColumn("leads", column);
  }
  v1::Lead lead;
  for (;;) {
    absl::StatusOr<bool> more = (*reader)->Next(&lead);
    if (!more.ok()) {
      std::cerr << more.status().message() << "\n";
      return kUsageError;
    }
    if (!*more) break;
    checker.AddLead(lead);
  }
  const std::vector<DataProblem> problems = checker.Finish();
  int warnings = 0;
  for (const DataProblem& p : problems) warnings += IsWarning(p.kind);
  std::string out;
  if (options.format == OutputFormat::kJson) {
    out = Json(*source, problems, checker.leads());
  } else {
    for (const DataProblem& p : problems) out += Text(*source, p);
    const int notes = static_cast<int>(problems.size()) - warnings;
    absl::StrAppend(&out, args[1], ": ", checker.leads(), " leads checked, ",
                    warnings, warnings == 1 ? " warning, " : " warnings, ",
                    notes, notes == 1 ? " note\n" : " notes\n");
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return warnings > 0 ? kCheckFailed : kOk;
}

}  // namespace smarketing::cli
