// Checks lead data against the Playbook that will read it, before its scores
// silently mislead: values of a type no condition on them can match (numbers
// written as text under a range, "30" compared with the number 30, True and
// False written as text), attribute keys no condition path can reach (keys
// holding dots), types changing between rows, unknown columns, fields no
// lead has, rules that fire for no lead, literals never seen in the data and
// columns no rule reads. The command line's check-data and Python's
// check_data and score_frame share it.
#ifndef SMARKETING_CORE_CHECKS_DATA_CHECK_H_
#define SMARKETING_CORE_CHECKS_DATA_CHECK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/batch/lead_table.h"
#include "core/playbook/compiled_playbook.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

enum class DataProblemKind {
  kUnknownColumn,   // a column the leads or events tables do not have
  kUnreachableKey,  // an attribute or property key with dots in it
  kNumberAsText,    // numbers written as text where a number is compared
  kBoolAsText,      // true/false written as text where a boolean is compared
  kTypeMismatch,    // values of a type the condition never matches
  kMixedTypes,      // a column's type changes from row to row
  kNoValues,        // a field a condition reads that no lead has
  kRuleNeverFires,  // a rule or criterion that matched no lead
  kUnseenValue,     // a compared text never found in the data
  kUnreadColumn,    // a column with values that no condition reads
};

// "unknown_column", "number_as_text"...: the kind's name in every front.
absl::string_view DataProblemKindName(DataProblemKind kind);

// Warnings change scores without a word; notes (unseen values, unread
// columns) are worth a look but may be intended.
bool IsWarning(DataProblemKind kind);

struct DataProblem {
  DataProblemKind kind = DataProblemKind::kTypeMismatch;
  // The data column: "leads.attributes.age", "events.properties.url".
  std::string column;
  // The Playbook path of the condition or rule concerned
  // ("fit_rules[3].when.range"); empty for problems of a column alone.
  std::string rule;
  // Rows (leads, or events for event columns) that show the problem; 0 when
  // it is not about rows.
  int64_t rows = 0;
  // One offending value as it is in the data, when there is one.
  std::string example;
  // What is wrong and how to fix it.
  std::string message;
};

// Collects what the Playbook's conditions would read from each lead, then
// reports. Feed leads one by one (the command line streams files of any
// size); memory is bounded by the Playbook and the number of distinct
// columns, not by the number of leads.
class DataChecker {
 public:
  explicit DataChecker(std::shared_ptr<const CompiledPlaybook> playbook);
  ~DataChecker();
  DataChecker(const DataChecker&) = delete;
  DataChecker& operator=(const DataChecker&) = delete;

  void AddLead(const v1::Lead& lead);
  // A column the reader could not place ("leads", "emp.var.rate").
  void AddUnknownColumn(absl::string_view table, absl::string_view column);

  int64_t leads() const;

  // Every problem found: columns first, then conditions and rules in
  // Playbook order. `every_lead`: false when only a sample of the leads was
  // added; rule counts and unseen values, which need every lead, are then
  // left out.
  std::vector<DataProblem> Finish(bool every_lead = true) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct DataCheckOptions {
  // At most this many leads are read, spread evenly over the table (0: all).
  // Rule counts and unseen values are then left out: they need every lead.
  int64_t max_leads = 0;
};

// Checks tables of columns as LeadTable reads them. Unknown columns are
// reported, not refused, and the rest is checked; any other column error
// (a wrong dtype, a missing id) is returned as LeadTable::Create returns it.
absl::StatusOr<std::vector<DataProblem>> CheckLeadColumns(
    std::shared_ptr<const CompiledPlaybook> playbook, std::vector<Column> leads,
    std::vector<Column> events, const DataCheckOptions& options = {});

// Checks the leads of a table already made, as CheckLeadColumns checks its
// own: score_frame checks the table it scores, whose events are already
// grouped by lead, so that a sample costs no pass over every event.
std::vector<DataProblem> CheckLeadTable(
    std::shared_ptr<const CompiledPlaybook> playbook, const LeadTable& table,
    const DataCheckOptions& options = {});

}  // namespace smarketing

#endif  // SMARKETING_CORE_CHECKS_DATA_CHECK_H_
