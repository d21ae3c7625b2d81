// What a change to the Playbook changes, for the reviewers of the change:
//
// - the rules: personas and criteria, fit, engagement, disqualification,
//   hand-raiser and priority rules, grade bands, thresholds, routing teams,
//   members and rules, SLA policies and reason codes, objectives: added,
//   removed or changed field by field. Items are matched by their id (or
//   grade, reason code, priority), so moving an item is not a rewrite; a new
//   order is reported where order decides (first matching rule wins).
// - its impact on a sample of leads: every lead scored with both Playbooks
//   at the same time; how many change grade, stage and team, the
//   transition matrices, and the leads whose total score moves most.
#ifndef SMARKETING_CORE_CHECKS_PLAYBOOK_DIFF_H_
#define SMARKETING_CORE_CHECKS_PLAYBOOK_DIFF_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/base/problems.h"
#include "core/batch/lead_table.h"
#include "core/journey/lead_engine.h"
#include "core/leads/lead_blocks.h"
#include "smarketing/v1/lifecycle.pb.h"
#include "smarketing/v1/playbook.pb.h"

namespace smarketing {

enum class ChangeKind { kAdded, kRemoved, kChanged };

// "added", "removed", "changed".
absl::string_view ChangeKindName(ChangeKind kind);

// One field of an item that changed.
struct FieldChange {
  // Relative to the item: "points", "when.in", "mql.min_total".
  std::string field;
  // Values as compact text (JSON for lists and messages); "(unset)" when
  // absent on that side.
  std::string before;
  std::string after;
  // Where it is written in the new Playbook (in the old one when the field
  // was removed), when positions were given.
  SourcePosition position;
};

// One item of the Playbook that was added, removed or changed.
struct RuleChange {
  ChangeKind kind = ChangeKind::kChanged;
  // The list or section: "fit_rules", "personas[scaleup].criteria",
  // "thresholds", "sla.policies".
  std::string section;
  // The item's key in its list (id, grade, code or priority); empty for a
  // section such as "thresholds".
  std::string id;
  // Path in the new Playbook, or in the old one for a removed item:
  // "fit_rules[3]".
  std::string path;
  SourcePosition position;
  // For kChanged: what changed.
  std::vector<FieldChange> fields;
};

// Every difference between two Playbooks, in the order of the new one.
// Positions, when given, locate each change in its Playbook.
std::vector<RuleChange> DiffPlaybookRules(
    const v1::Playbook& before, const v1::Playbook& after,
    const SourceMap* before_positions = nullptr,
    const SourceMap* after_positions = nullptr);

// Lead counts by a label before (rows) and after (columns) the change.
struct TransitionMatrix {
  // Labels that occur on either side, in a stable order.
  std::vector<std::string> labels;
  // counts[before][after], indexes into labels.
  std::vector<std::vector<int64_t>> counts;

  // Leads off the diagonal.
  int64_t changed() const;
};

// A lead whose score moved, before and after.
struct LeadDelta {
  std::string lead_id;
  // Line of the lead in the sample file; row (from 0) of a table.
  int64_t line = 0;
  double total_before = 0;
  double total_after = 0;
  std::string grade_before;
  std::string grade_after;
  v1::LifecycleStage stage_before = v1::LIFECYCLE_STAGE_UNSPECIFIED;
  v1::LifecycleStage stage_after = v1::LIFECYCLE_STAGE_UNSPECIFIED;
  std::string team_before;
  std::string team_after;

  double delta() const { return total_after - total_before; }
};

struct LeadImpactOptions {
  // Both Playbooks score at this time.
  absl::Time now;
  // Threads; <= 0 for all cores.
  int threads = 0;
  // How many of the leads that changed most to keep.
  int top = 10;
  // How many refused records to keep the message of.
  int max_errors = 20;
  // Also list every lead whose grade, stage or team changed
  // (LeadImpact::changed).
  bool list_changed = false;
  // After each block: leads read so far and the share of the input done
  // (negative when unknown).
  std::function<void(int64_t leads, double fraction)> progress;
};

struct LeadImpact {
  // Leads scored with both Playbooks.
  int64_t leads = 0;
  // Records that could not be read or scored, and the first messages.
  int64_t refused = 0;
  std::vector<std::string> errors;
  // Grades ("-" for none), lifecycle stages and teams ("-" when not routed).
  TransitionMatrix grades;
  TransitionMatrix stages;
  TransitionMatrix teams;
  // Whether teams were computed: either Playbook routes.
  bool routed = false;
  // Leads whose total score moved, and whose grade, stage or team changed.
  int64_t score_changes = 0;
  int64_t changed_leads = 0;
  // With list_changed: every lead whose grade, stage or team changed, in
  // input order.
  std::vector<LeadDelta> changed;
  // Leads that changed (score, stage or team), the largest change of total
  // score first; ties in file order.
  std::vector<LeadDelta> largest;
};

// Scores every lead of `reader` with both Playbooks, in parallel. When
// either Playbook routes, each lead it qualifies is also routed, as a new
// lead arriving alone at `now`: from an empty routing state (no account
// owners, rotations at their start), with team calendars and availability
// at `now`; so a lead's team depends on that lead only. The result does not
// depend on the number of threads. An error reading the file stops the
// measure; a malformed lead is counted and skipped.
absl::StatusOr<LeadImpact> MeasureLeadImpact(
    std::shared_ptr<const LeadEngine> before,
    std::shared_ptr<const LeadEngine> after, LeadBlockReader* reader,
    const LeadImpactOptions& options);

// The same measure over the leads of a table (Python's DataFrames), each
// lead's `line` being its row.
absl::StatusOr<LeadImpact> MeasureTableImpact(
    std::shared_ptr<const LeadEngine> before,
    std::shared_ptr<const LeadEngine> after, const LeadTable& table,
    const LeadImpactOptions& options);

// A limit on how many leads may change before the check fails: a share of
// the leads scored ("5%") or a number of leads ("120").
struct ChangeLimit {
  double value = 0;
  bool percent = false;
};

// INVALID_ARGUMENT unless `text` is a number >= 0, optionally followed by
// "%" (at most 100).
absl::StatusOr<ChangeLimit> ParseChangeLimit(absl::string_view text);

// Whether `changed` of `total` leads is more than the limit allows.
bool ExceedsLimit(const ChangeLimit& limit, int64_t changed, int64_t total);

// "5%" or "120 leads".
std::string FormatLimit(const ChangeLimit& limit);

}  // namespace smarketing

#endif  // SMARKETING_CORE_CHECKS_PLAYBOOK_DIFF_H_
