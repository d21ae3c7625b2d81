// Collects every problem found in a Playbook, lead or request, so that callers
// report them all at once instead of stopping at the first.
#ifndef SMARKETING_CORE_BASE_PROBLEMS_H_
#define SMARKETING_CORE_BASE_PROBLEMS_H_

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "smarketing/v1/validation.pb.h"

namespace smarketing {

// 1-based line and column of a value in its source document.
struct SourcePosition {
  int line = 0;
  int column = 0;
};

// Field path ("personas[2].criteria[0].weight") to where it was written.
using SourceMap = absl::flat_hash_map<std::string, SourcePosition>;

// The type URL under which a status carries its v1::ValidationProblems, so
// that each front can list the problems (gRPC field violations, Python
// exception attributes) instead of parsing a message.
inline constexpr char kProblemsPayloadUrl[] =
    "type.googleapis.com/smarketing.v1.ValidationProblems";

class ProblemList {
 public:
  // positions, when given, adds line and column to problems whose path (or
  // the closest enclosing path) was recorded.
  explicit ProblemList(const SourceMap* positions = nullptr,
                       absl::string_view file = "")
      : positions_(positions), file_(file) {}

  void Add(absl::string_view path, absl::string_view message);
  // For problems whose position is known directly (syntax errors).
  void AddAt(absl::string_view path, SourcePosition position,
             absl::string_view message);

  bool empty() const { return problems_.problems().empty(); }
  int size() const { return problems_.problems_size(); }
  const v1::ValidationProblems& problems() const { return problems_; }

  // OK when empty; otherwise INVALID_ARGUMENT whose message starts with
  // `what` and lists the problems, with the list attached as payload.
  absl::Status ToStatus(absl::string_view what) const;

 private:
  const SourceMap* positions_;
  std::string file_;
  v1::ValidationProblems problems_;
};

// The problems attached to a status by ProblemList::ToStatus, if any.
std::optional<v1::ValidationProblems> ProblemsFromStatus(
    const absl::Status& status);

// "file:line:column: path: message", omitting what is unknown.
std::string FormatProblem(const v1::ValidationProblem& problem);

// A status for one bad field, with its problem attached like ToStatus.
absl::Status FieldError(absl::string_view path, absl::string_view message);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_PROBLEMS_H_
