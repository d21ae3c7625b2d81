#include "grpc_server/lead_desk.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "core/journey/account.h"
#include "core/journey/lead_change.h"
#include "core/journey/rescore.h"
#include "core/scoring/lead_validation.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc_server/log.h"

namespace smarketing {
namespace {

// Escalation steps one RunSla carries out at most; a Playbook has a few.
constexpr int kMaxSlaStepsPerRun = 32;

absl::Status CheckLeadId(absl::string_view lead_id) {
  if (lead_id.empty()) return FieldError("lead_id", "required");
  return absl::OkStatus();
}

absl::Status CheckNote(absl::string_view note, absl::string_view path) {
  if (note.size() > kMaxNoteBytes) {
    return FieldError(path,
                      absl::StrCat("is ", note.size(), " bytes long; at most ",
                                   kMaxNoteBytes));
  }
  return absl::OkStatus();
}

// Refuses a reported time ahead of the server's clock by more than
// kMaxClockSkew. Malformed times are left to the lifecycle's checks.
absl::Status CheckNotAhead(const google::protobuf::Timestamp& at,
                           absl::string_view path, absl::Time now) {
  if (!IsValidTimestamp(at) || TimeFromProto(at) <= now + kMaxClockSkew) {
    return absl::OkStatus();
  }
  return FieldError(
      path, absl::StrCat(
                "is ", absl::FormatTime(TimeFromProto(at), absl::UTCTimeZone()),
                ", ahead of the server's clock (",
                absl::FormatTime(now, absl::UTCTimeZone()), ") by more than ",
                absl::FormatDuration(kMaxClockSkew)));
}

absl::Status CheckMoney(const v1::Money& money, absl::string_view path) {
  if (std::isfinite(money.amount()) && money.amount() >= 0) {
    return absl::OkStatus();
  }
  return FieldError(absl::StrCat(path, ".amount"),
                    absl::StrCat("must be a finite amount, not negative; "
                                 "found ",
                                 money.amount()));
}

// The amounts of feedback, checked before they reach the reports.
absl::Status CheckAmounts(const v1::Feedback& feedback) {
  if (feedback.has_opportunity_created()) {
    return CheckMoney(feedback.opportunity_created().amount(),
                      "feedback.opportunity_created.amount");
  }
  if (feedback.has_won()) {
    if (auto st = CheckMoney(feedback.won().revenue(), "feedback.won.revenue");
        !st.ok()) {
      return st;
    }
    return CheckMoney(feedback.won().margin(), "feedback.won.margin");
  }
  return absl::OkStatus();
}

// The lifecycle names the fields of the feedback it refuses; the request
// holds the feedback as `feedback`.
absl::Status InFeedback(absl::Status status) {
  auto problems = ProblemsFromStatus(status);
  if (!problems.has_value()) return status;
  ProblemList renamed;
  for (const v1::ValidationProblem& problem : problems->problems()) {
    renamed.Add(absl::StrCat("feedback.", problem.path()), problem.message());
  }
  absl::Status out(status.code(), status.message());
  out.SetPayload(kProblemsPayloadUrl,
                 absl::Cord(renamed.problems().SerializeAsString()));
  return out;
}

// Refuses a write that would store a record too large to be read back:
// the limit applies to what is stored, so that a refused write changes
// nothing and an accepted one can always be answered and listed.
absl::Status CheckRecordSize(const StoredLead& lead) {
  const size_t size = lead.lead.ByteSizeLong() + lead.lifecycle.ByteSizeLong() +
                      lead.score.ByteSizeLong();
  if (size > kMaxLeadRecordBytes) {
    return FieldError("lead",
                      absl::StrCat("the stored lead would take ", size,
                                   " bytes; at most ", kMaxLeadRecordBytes,
                                   " (its data, lifecycle history and score)"));
  }
  return absl::OkStatus();
}

// Keeps the lead's SLA state with the time until which it holds, for
// listings by SLA state (see StoredLead).
void KeepSlaState(const LeadEngine& engine, int64_t playbook, absl::Time now,
                  StoredLead* lead) {
  LeadState state{std::move(lead->lifecycle), std::move(lead->score)};
  const SlaEvaluation sla = engine.EvaluateSla(state, now);
  lead->lifecycle = std::move(state.lifecycle);
  lead->score = std::move(state.score);
  lead->sla_state = sla.state;
  lead->sla_valid_until = sla.next_change;
  lead->sla_playbook = playbook;
}

// Unknown fields would be stored and returned unread: dropped, as the
// schema's readers drop them.
google::protobuf::RepeatedPtrField<v1::Event> KnownFieldsOnly(
    const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  google::protobuf::RepeatedPtrField<v1::Event> known = events;
  for (v1::Event& event : known) event.DiscardUnknownFields();
  return known;
}

// Stores the request's events and counts what was new.
absl::Status AddEvents(
    StoreTransaction& txn,
    const google::protobuf::RepeatedPtrField<v1::Event>& events,
    LeadWrite* write) {
  std::vector<bool> stored;
  if (auto st = txn.AddEvents(write->lead.lead.id(), events, &stored);
      !st.ok()) {
    return st;
  }
  for (size_t i = 0; i < stored.size(); ++i) {
    ++(stored[i] ? write->recorded : write->duplicates);
  }
  return absl::OkStatus();
}

// An event reported up to kMaxClockSkew ahead of the server's clock counts
// as happening now when the lead is scored: the scorer leaves out events
// after `now`, and nothing scores the lead again before the next refresh,
// so an event stamped "just now" by a client whose clock runs ahead of the
// server's would be stored and acknowledged but not counted. The server's
// own absl::Now() is such a clock too: abseil extrapolates it from the CPU's
// cycle counter between readings of the kernel's clock, so it can trail the
// clock_gettime() a client on the same machine stamps with. The stored
// event keeps the time it was reported with.
void CountAsNowWithinSkew(
    absl::Time now, google::protobuf::RepeatedPtrField<v1::Event>* events) {
  for (v1::Event& event : *events) {
    if (!IsValidTimestamp(event.occurred_at())) continue;
    const absl::Time at = TimeFromProto(event.occurred_at());
    if (at > now && at <= now + kMaxClockSkew) {
      TimeToProto(now, event.mutable_occurred_at());
    }
  }
}

// Rescores the lead with its latest stored events (kScoredEventsPerLead):
// from `all_events` when the caller knows them (a lead created by this
// write; lent, and given back as they were), else read back.
absl::Status Rescore(
    const LeadEngine& engine, StoreTransaction& txn, absl::Time now,
    LeadWrite* write, v1::RoutingState* routing,
    google::protobuf::RepeatedPtrField<v1::Event>* all_events = nullptr) {
  // Moved out and back rather than copied: rescoring is mostly this.
  v1::Lead full = std::move(write->lead.lead);
  bool lent = false;
  if (all_events != nullptr) {
    if (all_events->size() > kScoredEventsPerLead) {
      for (int i = all_events->size() - kScoredEventsPerLead;
           i < all_events->size(); ++i) {
        *full.add_events() = (*all_events)[i];
      }
    } else {
      full.mutable_events()->Swap(all_events);
      lent = true;
    }
  } else if (auto st = txn.GetLatestEvents(full.id(), kScoredEventsPerLead,
                                           full.mutable_events());
             !st.ok()) {
    write->lead.lead = std::move(full);
    return st;
  }
  CountAsNowWithinSkew(now, full.mutable_events());
  write->rescored = true;
  LeadState state{std::move(write->lead.lifecycle),
                  std::move(write->lead.score)};
  absl::Status st = engine.Refresh(full, now, &ThreadScorer(engine.playbook()),
                                   &state, routing);
  write->lead.lifecycle = std::move(state.lifecycle);
  write->lead.score = std::move(state.score);
  if (lent) {
    full.mutable_events()->Swap(all_events);
  } else {
    full.clear_events();
  }
  write->lead.lead = std::move(full);
  return st;
}

// Runs one of the engine's moves on the stored lifecycle and score.
template <typename Fn>
absl::Status Move(LeadWrite* write, Fn fn) {
  LeadState state{std::move(write->lead.lifecycle),
                  std::move(write->lead.score)};
  absl::Status st = fn(&state);
  write->lead.lifecycle = std::move(state.lifecycle);
  write->lead.score = std::move(state.score);
  return st;
}

// Stamps `change` and appends it to the feed.
absl::Status AppendChange(StoreTransaction& txn, absl::Time now,
                          const WriteActor& actor, int64_t revision,
                          v1::Change* change) {
  TimeToProto(now, change->mutable_at());
  change->set_actor(actor.kind);
  change->set_actor_id(actor.id);
  change->set_revision(revision);
  return txn.AppendChange(change);
}

// Appends an ACCOUNT_SCORE_CHANGED entry for each account whose score (by
// `playbook` at `now`) the write to `lead_id` changed: the account it was
// in, `before` (nullopt when it was not stored), and the one it is in,
// `after` (nullopt when erased). Reads the accounts' contacts only when
// the lead weighs differently in them, at most kMaxAccountContacts + 1
// each. Sets `latest_cursor` to the last entry's cursor.
absl::Status AppendAccountChanges(
    StoreTransaction& txn, const v1::Playbook& playbook,
    int64_t playbook_number, absl::string_view lead_id,
    absl::string_view account_before,
    const std::optional<AccountScoreInput>& before,
    absl::string_view account_after,
    const std::optional<AccountScoreInput>& after, absl::Time now,
    const WriteActor& actor, int64_t revision, int64_t* latest_cursor) {
  if (!playbook.has_account_scoring()) return absl::OkStatus();
  std::vector<absl::string_view> accounts = {account_before};
  if (account_after != account_before) accounts.push_back(account_after);
  for (const absl::string_view account : accounts) {
    if (account.empty()) continue;
    const std::optional<AccountScoreInput> was =
        account == account_before ? before : std::nullopt;
    const std::optional<AccountScoreInput> is =
        account == account_after ? after : std::nullopt;
    if (!was.has_value() && !is.has_value()) continue;
    if (was.has_value() && is.has_value() &&
        SameAccountContribution(playbook, *was, *is, now)) {
      continue;
    }
    auto rows = txn.ListAccountContacts(account, kMaxAccountContacts + 1);
    if (!rows.ok()) return rows.status();
    // The account's listing (the first kMaxAccountContacts by lead id, as
    // GetAccount scores it) with the lead as `self`, or without it.
    auto score = [&](const std::optional<AccountScoreInput>& self)
        -> std::optional<v1::AccountScore> {
      std::vector<AccountScoreInput> inputs;
      inputs.reserve(rows->size() + 1);
      bool placed = !self.has_value();
      for (const AccountContactRow& row : *rows) {
        if (row.lead_id == lead_id) continue;
        if (!placed && row.lead_id > lead_id) {
          inputs.push_back(*self);
          placed = true;
        }
        inputs.push_back(AccountScoreInputOf(row.score, row.stage));
      }
      if (!placed) inputs.push_back(*self);
      if (inputs.empty()) return std::nullopt;
      if (static_cast<int>(inputs.size()) > kMaxAccountContacts) {
        inputs.resize(kMaxAccountContacts);
      }
      return ScoreAccount(playbook, inputs, now);
    };
    const std::optional<v1::AccountScore> old_score = score(was);
    const std::optional<v1::AccountScore> new_score = score(is);
    if (!AccountScoreChanged(old_score, new_score)) continue;
    v1::Change change;
    change.set_lead_id(std::string(lead_id));
    change.add_kinds(v1::CHANGE_KIND_ACCOUNT_SCORE_CHANGED);
    change.set_account(std::string(account));
    if (old_score.has_value()) {
      *change.mutable_previous_account_score() = *old_score;
    }
    if (new_score.has_value()) *change.mutable_account_score() = *new_score;
    change.set_playbook_number(playbook_number);
    if (auto st = AppendChange(txn, now, actor, revision, &change); !st.ok()) {
      return st;
    }
    *latest_cursor = change.cursor();
  }
  return absl::OkStatus();
}

// When the scheduler must look at the lead next.
absl::Time NextSlaCheck(const LeadEngine& engine, LeadWrite* write,
                        absl::Time now) {
  LeadState state{std::move(write->lead.lifecycle),
                  std::move(write->lead.score)};
  const absl::Time due = engine.NextSlaCheck(state, now);
  write->lead.lifecycle = std::move(state.lifecycle);
  write->lead.score = std::move(state.score);
  return due;
}

}  // namespace

absl::Status LeadDesk::ModifyIn(StoreTransaction& txn, const LeadEngine& engine,
                                int64_t playbook, absl::string_view lead_id,
                                int64_t expected_revision, bool may_create,
                                absl::Time now, Change change,
                                const WriteActor& actor, LeadWrite* out,
                                v1::RoutingState* shared_routing) {
  LeadWrite& write = *out;
  std::optional<LeadState> before;
  std::string account_before;
  auto existing = txn.GetLead(lead_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    write.lead = **std::move(existing);
    before = LeadState{write.lead.lifecycle, write.lead.score};
    account_before = write.lead.account;
    if (expected_revision > 0 && write.lead.revision != expected_revision) {
      return absl::AbortedError(absl::StrCat(
          "lead ", lead_id, " is at revision ", write.lead.revision, ", not ",
          expected_revision, ": it changed meanwhile"));
    }
  } else {
    if (!may_create)
      return absl::NotFoundError(absl::StrCat("no lead ", lead_id));
    if (expected_revision > 0) {
      return absl::AbortedError(
          absl::StrCat("lead ", lead_id, " does not exist, not at revision ",
                       expected_revision));
    }
    auto lifecycle = engine.Start(now);
    if (!lifecycle.ok()) return lifecycle.status();
    write.lead.lifecycle = *std::move(lifecycle);
    write.lead.lead.set_id(std::string(lead_id));
    write.created = true;
  }
  absl::StatusOr<v1::RoutingState> own_routing;
  v1::RoutingState* routing = shared_routing;
  if (routing == nullptr) {
    own_routing = txn.GetRoutingState();
    if (!own_routing.ok()) return own_routing.status();
    routing = &*own_routing;
  }
  if (auto st = change(engine, txn, &write, routing); !st.ok()) return st;
  write.lead.event_count += write.recorded;
  write.event_count = write.lead.event_count;
  if (auto st = txn.SetSlaDue(lead_id, NextSlaCheck(engine, &write, now));
      !st.ok()) {
    return st;
  }
  if (write.unchanged) return absl::OkStatus();
  ++write.lead.revision;
  write.lead.updated_at = now;
  KeepSlaState(engine, playbook, now, &write.lead);
  write.lead.lead.clear_events();
  write.lead.account = AccountKey(write.lead.lead.company().domain());
  if (auto st = CheckRecordSize(write.lead); !st.ok()) return st;
  if (auto st = txn.PutLead(write.lead); !st.ok()) return st;
  if (shared_routing == nullptr) {
    if (auto st = txn.PutRoutingState(*routing); !st.ok()) return st;
  }
  LeadState after{std::move(write.lead.lifecycle), std::move(write.lead.score)};
  DescribeLeadChange(write.lead.lead, before ? &*before : nullptr, after,
                     write.rescored, write.feedback, &write.change);
  write.lead.lifecycle = std::move(after.lifecycle);
  write.lead.score = std::move(after.score);
  if (write.change.kinds().empty()) {
    write.change.Clear();
  } else {
    if (write.rescore_pass) {
      auto* kinds = write.change.mutable_kinds();
      kinds->Add(v1::CHANGE_KIND_RESCORED);
      std::rotate(kinds->begin(), kinds->end() - 1, kinds->end());
    }
    write.change.set_playbook_number(playbook);
    if (auto st =
            AppendChange(txn, now, actor, write.lead.revision, &write.change);
        !st.ok()) {
      return st;
    }
    write.latest_cursor = write.change.cursor();
  }
  std::optional<AccountScoreInput> contact_before;
  if (before.has_value()) {
    contact_before =
        AccountScoreInputOf(before->score, before->lifecycle.stage());
  }
  return AppendAccountChanges(
      txn, engine.playbook()->playbook(), playbook, lead_id, account_before,
      contact_before, write.lead.account,
      AccountScoreInputOf(write.lead.score, write.lead.lifecycle.stage()), now,
      actor, write.lead.revision, &write.latest_cursor);
}

absl::StatusOr<LeadWrite> LeadDesk::Modify(absl::string_view lead_id,
                                           int64_t expected_revision,
                                           bool may_create, absl::Time now,
                                           Change change,
                                           const WriteActor& actor) {
  if (auto st = CheckLeadId(lead_id); !st.ok()) return st;
  auto version = playbooks_->Get(0);
  if (!version.ok()) return version.status();
  LeadWrite write;
  write.engine = version->engine;
  absl::Status status = store_->Write([&](StoreTransaction& txn) {
    return ModifyIn(txn, *version->engine, version->number, lead_id,
                    expected_revision, may_create, now, change, actor, &write);
  });
  if (!status.ok()) return status;
  if (feed_ != nullptr && write.latest_cursor > 0) {
    feed_->Committed(write.latest_cursor);
  }
  return write;
}

absl::StatusOr<LeadWrite> LeadDesk::Upsert(v1::Lead lead,
                                           int64_t expected_revision,
                                           absl::Time now,
                                           const WriteActor& actor) {
  if (auto st = ValidateLead(lead); !st.ok()) return st;
  lead.DiscardUnknownFields();
  const std::string id = lead.id();
  return Modify(
      id, expected_revision, /*may_create=*/true, now,
      [&](const LeadEngine& engine, StoreTransaction& txn, LeadWrite* write,
          v1::RoutingState* routing) {
        if (!lead.has_created_at()) {
          if (write->created) {
            TimeToProto(now, lead.mutable_created_at());
          } else {
            *lead.mutable_created_at() = write->lead.lead.created_at();
          }
        }
        google::protobuf::RepeatedPtrField<v1::Event> events;
        events.Swap(lead.mutable_events());
        write->lead.lead = std::move(lead);
        if (auto st = AddEvents(txn, events, write); !st.ok()) {
          return st;
        }
        return Rescore(engine, txn, now, write, routing);
      },
      actor);
}

absl::StatusOr<LeadWrite> LeadDesk::RecordEvents(
    absl::string_view lead_id,
    const google::protobuf::RepeatedPtrField<v1::Event>& request_events,
    absl::Time now, const WriteActor& actor) {
  const google::protobuf::RepeatedPtrField<v1::Event> events =
      KnownFieldsOnly(request_events);
  for (int i = 0; i < events.size(); ++i) {
    if (auto st = ValidateEvent(events[i], absl::StrCat("events[", i, "]"));
        !st.ok()) {
      return st;
    }
  }
  return Modify(
      lead_id, 0, /*may_create=*/false, now,
      [&](const LeadEngine& engine, StoreTransaction& txn, LeadWrite* write,
          v1::RoutingState* routing) {
        if (auto st = AddEvents(txn, events, write); !st.ok()) return st;
        // A retried delivery changes nothing.
        if (write->recorded == 0) {
          write->unchanged = true;
          return absl::OkStatus();
        }
        return Rescore(engine, txn, now, write, routing);
      },
      actor);
}

absl::StatusOr<LeadWrite> LeadDesk::ApplyFeedback(
    const v1::Feedback& request_feedback, int64_t expected_revision,
    absl::Time now, const WriteActor& actor) {
  v1::Feedback feedback = request_feedback;
  feedback.DiscardUnknownFields();
  if (feedback.lead_id().empty()) {
    return FieldError("feedback.lead_id", "required");
  }
  if (auto st = CheckNote(feedback.note(), "feedback.note"); !st.ok()) {
    return st;
  }
  if (auto st = CheckAmounts(feedback); !st.ok()) return st;
  if (auto st = CheckNotAhead(feedback.at(), "feedback.at", now); !st.ok()) {
    return st;
  }
  return Modify(
      feedback.lead_id(), expected_revision, false, now,
      [&](const LeadEngine& engine, StoreTransaction& txn, LeadWrite* write,
          v1::RoutingState* routing) {
        if (auto st = Move(write,
                           [&](LeadState* state) {
                             return engine.ApplyFeedback(feedback, now, state,
                                                         routing);
                           });
            !st.ok()) {
          return InFeedback(st);
        }
        write->feedback = true;
        return txn.AddFeedback(feedback);
      },
      actor);
}

absl::StatusOr<LeadWrite> LeadDesk::Transition(absl::string_view lead_id,
                                               const v1::StageTransition& move,
                                               int64_t expected_revision,
                                               absl::Time now,
                                               const WriteActor& actor) {
  if (auto st = CheckNote(move.note(), "note"); !st.ok()) return st;
  if (auto st = CheckNotAhead(move.at(), "at", now); !st.ok()) return st;
  return Modify(
      lead_id, expected_revision, false, now,
      [&](const LeadEngine& engine, StoreTransaction&, LeadWrite* write,
          v1::RoutingState* routing) {
        const v1::Lead lead = write->lead.lead;
        return Move(write, [&](LeadState* state) {
          return engine.Transition(lead, move, now, state, routing);
        });
      },
      actor);
}

absl::StatusOr<LeadWrite> LeadDesk::RecordFirstTouch(absl::string_view lead_id,
                                                     absl::Time at,
                                                     absl::Time now,
                                                     const WriteActor& actor) {
  google::protobuf::Timestamp at_proto;
  TimeToProto(at, &at_proto);
  if (auto st = CheckNotAhead(at_proto, "at", now); !st.ok()) return st;
  return Modify(
      lead_id, 0, false, now,
      [&](const LeadEngine& engine, StoreTransaction&, LeadWrite* write,
          v1::RoutingState*) {
        // A first touch already recorded changes nothing.
        const std::string before = write->lead.lifecycle.SerializeAsString();
        absl::Status st = Move(write, [&](LeadState* state) {
          return engine.RecordFirstTouch(at, now, state);
        });
        write->unchanged =
            st.ok() && write->lead.lifecycle.SerializeAsString() == before;
        return st;
      },
      actor);
}

absl::StatusOr<int> LeadDesk::Erase(absl::string_view lead_id,
                                    const WriteActor& actor) {
  if (auto st = CheckLeadId(lead_id); !st.ok()) return st;
  int erased = 0;
  int64_t latest_cursor = 0;
  // The account the lead leaves is scored by the active Playbook; without
  // one, there is no account score to change.
  auto version = playbooks_->Get(0);
  const absl::Time now = absl::Now();
  absl::Status st = store_->Write([&](StoreTransaction& txn) -> absl::Status {
    std::optional<StoredLead> stored;
    if (version.ok() &&
        version->engine->playbook()->playbook().has_account_scoring()) {
      auto lead = txn.GetLead(lead_id);
      if (!lead.ok()) return lead.status();
      stored = *std::move(lead);
    }
    auto n = txn.EraseLead(lead_id);
    if (!n.ok()) return n.status();
    erased = *n;
    v1::Change change;
    change.set_lead_id(std::string(lead_id));
    change.add_kinds(v1::CHANGE_KIND_LEAD_ERASED);
    if (auto st = AppendChange(txn, now, actor, 0, &change); !st.ok()) {
      return st;
    }
    latest_cursor = change.cursor();
    if (!stored.has_value()) return absl::OkStatus();
    return AppendAccountChanges(
        txn, version->engine->playbook()->playbook(), version->number, lead_id,
        stored->account,
        AccountScoreInputOf(stored->score, stored->lifecycle.stage()), "",
        std::nullopt, now, actor, 0, &latest_cursor);
  });
  if (!st.ok()) return st;
  if (feed_ != nullptr) feed_->Committed(latest_cursor);
  return erased;
}

// --- What the SLA scheduler does to one lead ---

absl::StatusOr<LeadWrite> LeadDesk::RunSla(absl::string_view lead_id,
                                           absl::Time now) {
  // One step per transaction, so that each has its own entry in the feed;
  // a step's record in the lifecycle commits with its effect.
  absl::StatusOr<LeadWrite> written;
  for (int round = 0; round <= kMaxSlaStepsPerRun; ++round) {
    bool stepped = false;
    written = Modify(
        lead_id, 0, /*may_create=*/false, now,
        [&](const LeadEngine& engine, StoreTransaction&, LeadWrite* write,
            v1::RoutingState* routing) -> absl::Status {
          const std::vector<DueSlaStep> due = [&] {
            const LeadState state{write->lead.lifecycle, write->lead.score};
            return engine.DueSlaSteps(state, now);
          }();
          if (!due.empty()) {
            stepped = true;
            return Move(write, [&](LeadState* state) {
              return engine.ApplySlaStep(due.front(), now, state, routing);
            });
          }
          const LeadState state{write->lead.lifecycle, write->lead.score};
          v1::SlaStatus sla = engine.SlaStatusAt(state, now);
          if (sla.state() == write->lead.score.sla().state()) {
            write->unchanged = true;
          } else {
            *write->lead.score.mutable_sla() = std::move(sla);
          }
          return absl::OkStatus();
        });
    if (!written.ok() || !stepped) break;
  }
  return written;
}

absl::StatusOr<LeadWrite> LeadDesk::AssignFromQueue(absl::string_view lead_id,
                                                    absl::Time now) {
  return Modify(lead_id, 0, /*may_create=*/false, now,
                [&](const LeadEngine& engine, StoreTransaction&,
                    LeadWrite* write, v1::RoutingState* routing) {
                  bool assigned = false;
                  absl::Status st = Move(write, [&](LeadState* state) {
                    auto done = engine.AssignFromQueue(now, state, routing);
                    if (!done.ok()) return done.status();
                    assigned = *done;
                    return absl::OkStatus();
                  });
                  if (st.ok() && !assigned) write->unchanged = true;
                  return st;
                });
}

absl::StatusOr<bool> LeadDesk::QueuesMayMove(absl::Time now) {
  auto version = playbooks_->Get(0);
  if (!version.ok()) return version.status();
  bool may_move = false;
  absl::Status st = store_->Read([&](StoreTransaction& txn) -> absl::Status {
    auto routing = txn.GetRoutingState();
    if (!routing.ok()) return routing.status();
    may_move = version->engine->QueuesMayMove(now, *routing);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return may_move;
}

// --- Rescoring passes ---

LeadDesk::Change LeadDesk::RescoreChange(v1::RescoreReason reason,
                                         absl::Time now) {
  return [reason, now](const LeadEngine& engine, StoreTransaction& txn,
                       LeadWrite* write, v1::RoutingState* routing) {
    write->rescore_pass = true;
    LeadState before{write->lead.lifecycle, write->lead.score};
    if (auto st = Rescore(engine, txn, now, write, routing); !st.ok()) {
      return st;
    }
    // Rescore marks the write as a client's rescoring; a pass is told
    // apart by its own kind.
    write->rescored = false;
    LeadState after{std::move(write->lead.lifecycle),
                    std::move(write->lead.score)};
    if (RescoreKeeps(reason, write->lead.lead, before, after)) {
      write->lead.lifecycle = std::move(after.lifecycle);
      write->lead.score = std::move(after.score);
    } else {
      write->lead.lifecycle = std::move(before.lifecycle);
      write->lead.score = std::move(before.score);
      write->unchanged = true;
    }
    return absl::OkStatus();
  };
}

absl::StatusOr<v1::RescoreStatus> LeadDesk::RescoreBatch(
    const v1::RescoreStatus& pass, const PlaybookVersionEngine& version,
    const std::vector<std::string>& lead_ids, absl::Time now) {
  const WriteActor system;
  // `skip`: leads left out, as the engine refused them alone.
  auto run = [&](absl::Span<const std::string> ids,
                 const absl::flat_hash_set<std::string>& skip,
                 v1::RescoreStatus* progress,
                 int64_t* latest_cursor) -> absl::Status {
    return store_->Write([&](StoreTransaction& txn) -> absl::Status {
      auto stored = txn.GetLatestRescore();
      if (!stored.ok()) return stored.status();
      if (!stored->has_value() ||
          (*stored)->pass_number() != progress->pass_number() ||
          (*stored)->state() != v1::RESCORE_STATE_RUNNING ||
          (*stored)->resume_after_lead_id() !=
              progress->resume_after_lead_id()) {
        return absl::AbortedError(
            absl::StrCat("rescoring pass ", progress->pass_number(),
                         " moved on elsewhere since it was read"));
      }
      auto routing = txn.GetRoutingState();
      if (!routing.ok()) return routing.status();
      for (const std::string& id : ids) {
        progress->set_leads_done(progress->leads_done() + 1);
        progress->set_resume_after_lead_id(id);
        if (skip.contains(id)) {
          progress->set_leads_failed(progress->leads_failed() + 1);
          continue;
        }
        LeadWrite write;
        absl::Status st = ModifyIn(txn, *version.engine, version.number, id, 0,
                                   /*may_create=*/false, now,
                                   RescoreChange(progress->reason(), now),
                                   system, &write, &*routing);
        if (absl::IsNotFound(st)) continue;
        if (!st.ok()) return st;
        if (!write.unchanged) {
          progress->set_leads_written(progress->leads_written() + 1);
        }
        if (write.change.cursor() > 0) {
          progress->set_leads_changed(progress->leads_changed() + 1);
        }
        if (write.latest_cursor > 0) *latest_cursor = write.latest_cursor;
      }
      if (auto st = txn.PutRoutingState(*routing); !st.ok()) return st;
      return txn.PutRescore(*progress);
    });
  };

  // What the engine refuses for one lead (a record grown too large, a
  // lifecycle move it does not allow) rather than a store that failed.
  auto refused_by_engine = [](const absl::Status& st) {
    return absl::IsInvalidArgument(st) || absl::IsFailedPrecondition(st) ||
           absl::IsOutOfRange(st);
  };
  v1::RescoreStatus progress = pass;
  int64_t latest_cursor = 0;
  absl::Status st = run(lead_ids, {}, &progress, &latest_cursor);
  if (refused_by_engine(st)) {
    // The batch was rolled back: each lead on its own, to leave out only
    // the ones refused.
    absl::flat_hash_set<std::string> refused;
    progress = pass;
    st = absl::OkStatus();
    for (const std::string& id : lead_ids) {
      v1::RescoreStatus attempt = progress;
      absl::Status one = run({&id, 1}, refused, &attempt, &latest_cursor);
      if (refused_by_engine(one)) {
        Log("warning", "rescore_lead_failed",
            {{"lead_id", id}, {"error", std::string(one.message())}});
        refused.insert(id);
        attempt = progress;
        one = run({&id, 1}, refused, &attempt, &latest_cursor);
      }
      if (!one.ok()) {
        st = one;
        break;
      }
      progress = std::move(attempt);
    }
  }
  if (feed_ != nullptr && latest_cursor > 0) feed_->Committed(latest_cursor);
  if (!st.ok()) return st;
  return progress;
}

// --- Bulk import ---

LeadDesk::Change LeadDesk::ImportChange(v1::Lead* lead, absl::Time now) {
  return [lead, now](const LeadEngine& engine, StoreTransaction& txn,
                     LeadWrite* write, v1::RoutingState* routing) {
    // The record but its events, which are stored apart: they are swapped
    // out for the copy and back rather than copied, and stay with the
    // record, so that a batch rolled back can be run again lead by lead.
    google::protobuf::RepeatedPtrField<v1::Event> events;
    events.Swap(lead->mutable_events());
    v1::Lead incoming = *lead;
    lead->mutable_events()->Swap(&events);
    if (!incoming.has_created_at()) {
      if (write->created) {
        TimeToProto(now, incoming.mutable_created_at());
      } else {
        *incoming.mutable_created_at() = write->lead.lead.created_at();
      }
    }
    if (auto st = AddEvents(txn, lead->events(), write); !st.ok()) {
      return st;
    }
    // The same record imported again changes nothing.
    if (!write->created && write->recorded == 0 &&
        google::protobuf::util::MessageDifferencer::Equals(incoming,
                                                           write->lead.lead)) {
      write->unchanged = true;
      return absl::OkStatus();
    }
    write->lead.lead = std::move(incoming);
    // A new lead's events are those of the record (no id repeated, see
    // Import): no need to read them back to score it.
    return Rescore(engine, txn, now, write, routing,
                   write->created ? lead->mutable_events() : nullptr);
  };
}

std::vector<absl::StatusOr<LeadWrite>> LeadDesk::Import(
    std::vector<v1::Lead>* leads, absl::Time now, const WriteActor& actor) {
  std::vector<absl::StatusOr<LeadWrite>> out(leads->size());
  auto version = playbooks_->Get(0);
  if (!version.ok()) {
    for (auto& result : out) result = version.status();
    return out;
  }
  std::vector<size_t> valid;
  // Events of lead i whose id came earlier in the lead: the first is the
  // one stored, the others are duplicates.
  std::vector<int> repeated(leads->size());
  for (size_t i = 0; i < leads->size(); ++i) {
    v1::Lead& lead = (*leads)[i];
    absl::Status st = ValidateLead(lead);
    if (!st.ok()) {
      out[i] = st;
      continue;
    }
    valid.push_back(i);
    lead.DiscardUnknownFields();
    auto* events = lead.mutable_events();
    int kept = 0;
    {
      absl::flat_hash_set<absl::string_view> ids;
      for (int j = 0; j < events->size(); ++j) {
        if (!ids.insert(events->Get(j).id()).second) continue;
        // Those between `kept` and j are repeated: the order of the others
        // is kept.
        if (kept != j) events->SwapElements(kept, j);
        ++kept;
      }
    }
    repeated[i] = events->size() - kept;
    events->DeleteSubrange(kept, repeated[i]);
  }
  auto with_repeated = [&](size_t i, absl::StatusOr<LeadWrite> write) {
    if (write.ok()) {
      write->duplicates += repeated[i];
    }
    return write;
  };
  // The whole batch in one transaction: one disk sync for all its leads,
  // and one read and write of the routing state, which grows with the
  // accounts known.
  std::vector<LeadWrite> writes(valid.size());
  absl::Status batch =
      store_->Write([&](StoreTransaction& txn) -> absl::Status {
        auto routing = txn.GetRoutingState();
        if (!routing.ok()) return routing.status();
        for (size_t k = 0; k < valid.size(); ++k) {
          v1::Lead& lead = (*leads)[valid[k]];
          writes[k] = LeadWrite();
          writes[k].engine = version->engine;
          if (auto st =
                  ModifyIn(txn, *version->engine, version->number, lead.id(), 0,
                           /*may_create=*/true, now, ImportChange(&lead, now),
                           actor, &writes[k], &*routing);
              !st.ok()) {
            return st;
          }
        }
        return txn.PutRoutingState(*routing);
      });
  if (batch.ok()) {
    int64_t latest = 0;
    for (size_t k = 0; k < valid.size(); ++k) {
      latest = std::max(latest, writes[k].latest_cursor);
      out[valid[k]] = with_repeated(valid[k], std::move(writes[k]));
    }
    if (feed_ != nullptr && latest > 0) feed_->Committed(latest);
    return out;
  }
  // A lead the store or the engine refused rolled the batch back: each
  // lead again on its own, so that only that one is refused.
  for (size_t i : valid) {
    v1::Lead& lead = (*leads)[i];
    out[i] = with_repeated(i, Modify(lead.id(), 0, /*may_create=*/true, now,
                                     ImportChange(&lead, now), actor));
  }
  return out;
}

}  // namespace smarketing
