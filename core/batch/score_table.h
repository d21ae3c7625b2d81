// Scoring a whole LeadTable on all cores, into columns: what score_frame
// returns to Python.
#ifndef SMARKETING_CORE_BATCH_SCORE_TABLE_H_
#define SMARKETING_CORE_BATCH_SCORE_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/batch/lead_table.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/compiled_playbook.h"
#include "core/scoring/scorer.h"
#include "smarketing/v1/routing_state.pb.h"

namespace smarketing {

// Scores in columns, one entry per lead.
struct ScoreColumns {
  std::vector<double> fit;
  std::vector<double> engagement;
  std::vector<double> total;
  std::vector<int32_t> persona;   // index in the Playbook, -1 for none
  std::vector<int32_t> grade;     // index in grade_bands, -1 for none
  std::vector<int32_t> stage;     // v1::LifecycleStage
  std::vector<int32_t> priority;  // v1::Priority
  std::vector<int32_t> disqualification_reason;
  std::vector<uint8_t> hand_raiser;
  std::vector<int32_t> events_counted;
  std::vector<int32_t> duplicate_events;
  // With contributions: lead r's rules that fired are
  // contributions[contribution_begin[r] .. contribution_begin[r + 1]).
  std::vector<int64_t> contribution_begin;
  std::vector<RuleContribution> contributions;
  // With sentences: one per contribution, as in ScoreResult.explanation.
  std::vector<std::string> sentences;
  // With routing: the team and owner of each MQL, as codes into the
  // dictionaries (-1: not routed, or waiting in the team's queue).
  std::vector<int32_t> team;
  std::vector<int32_t> owner;
  std::vector<std::string> teams;
  std::vector<std::string> owners;
};

struct ScoreTableOptions {
  absl::Time now;
  int threads = 0;  // <= 0: DefaultThreadCount()
  bool contributions = false;
  bool sentences = false;  // implies contributions
  // When set, MQLs are routed with the Playbook's routing, one after the
  // other in table order from `routing_state` (empty: no account owners,
  // rotations at their start), as if they all arrived at `now`: as
  // `smarketing score` routes a file (LeadEngine::AssignNewMql).
  std::shared_ptr<const LeadEngine> engine;
  v1::RoutingState routing_state;
};

// Scores every lead of `table`. A lead the core refuses fails the whole call
// with INVALID_ARGUMENT naming its row, id and field (and the events row for
// an event field); the problem is attached with path "leads[row].<field>".
absl::Status ScoreTable(std::shared_ptr<const CompiledPlaybook> playbook,
                        const LeadTable& table,
                        const ScoreTableOptions& options, ScoreColumns* out);

// That error, for lead `row` of `table` (id `lead_id`) refused by the core
// with `status`: what every whole-table call reports for a bad lead.
absl::Status TableLeadError(const LeadTable& table, int64_t row,
                            absl::string_view lead_id,
                            const absl::Status& status);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BATCH_SCORE_TABLE_H_
