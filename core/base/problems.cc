#include "core/base/problems.h"

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/utf8.h"

namespace smarketing {
namespace {

// Problems listed in a status message; the payload always has them all.
constexpr int kMaxProblemsInMessage = 20;

// "a.b[3].c" -> "a.b[3]" -> "a.b" -> "a" -> "".
std::string ParentPath(absl::string_view path) {
  const size_t cut = path.find_last_of(".[");
  return cut == absl::string_view::npos ? "" : std::string(path.substr(0, cut));
}

// A problem may quote the bad text it is about; bytes that are not UTF-8
// are escaped so that the problem still serializes (protobuf strings must
// be UTF-8) and prints as it was written.
std::string Printable(absl::string_view text) {
  if (FindInvalidUtf8(text) == absl::string_view::npos)
    return std::string(text);
  return absl::CHexEscape(text);
}

}  // namespace

void ProblemList::Add(absl::string_view path, absl::string_view message) {
  SourcePosition position;
  if (positions_ != nullptr) {
    for (std::string p(path);; p = ParentPath(p)) {
      if (auto it = positions_->find(p); it != positions_->end()) {
        position = it->second;
        break;
      }
      if (p.empty()) break;
    }
  }
  AddAt(path, position, message);
}

void ProblemList::AddAt(absl::string_view path, SourcePosition position,
                        absl::string_view message) {
  v1::ValidationProblem* problem = problems_.add_problems();
  problem->set_path(Printable(path));
  problem->set_message(Printable(message));
  problem->set_line(position.line);
  problem->set_column(position.column);
  problem->set_file(file_);
}

absl::Status ProblemList::ToStatus(absl::string_view what) const {
  if (empty()) return absl::OkStatus();
  std::string message =
      absl::StrCat(what, ": ", size(), size() == 1 ? " problem" : " problems");
  int listed = 0;
  for (const v1::ValidationProblem& problem : problems_.problems()) {
    if (listed++ == kMaxProblemsInMessage) {
      absl::StrAppend(&message, "\n  ... and ", size() - kMaxProblemsInMessage,
                      " more");
      break;
    }
    absl::StrAppend(&message, "\n  ", FormatProblem(problem));
  }
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kProblemsPayloadUrl,
                    absl::Cord(problems_.SerializeAsString()));
  return status;
}

std::optional<v1::ValidationProblems> ProblemsFromStatus(
    const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kProblemsPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  v1::ValidationProblems problems;
  if (!problems.ParseFromString(std::string(*payload))) return std::nullopt;
  return problems;
}

std::string FormatProblem(const v1::ValidationProblem& problem) {
  std::string out;
  if (!problem.file().empty()) absl::StrAppend(&out, problem.file(), ":");
  if (problem.line() > 0) {
    absl::StrAppend(&out, problem.line(), ":", problem.column(), ":");
  }
  if (!out.empty()) out += " ";
  if (!problem.path().empty()) absl::StrAppend(&out, problem.path(), ": ");
  absl::StrAppend(&out, problem.message());
  return out;
}

absl::Status FieldError(absl::string_view path, absl::string_view message) {
  ProblemList problems;
  problems.Add(path, message);
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
  status.SetPayload(kProblemsPayloadUrl,
                    absl::Cord(problems.problems().SerializeAsString()));
  return status;
}

}  // namespace smarketing
