// An account (a company) seen across its contacts: the stored leads of one
// company domain, with their stages, the personas of the buying committee
// they cover, the best fit and the engagement summed, and the account's
// owner as routing remembers it.
#ifndef SMARKETING_CORE_JOURNEY_ACCOUNT_H_
#define SMARKETING_CORE_JOURNEY_ACCOUNT_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/journey/lead_engine.h"
#include "smarketing/v1/account.pb.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/playbook.pb.h"
#include "smarketing/v1/routing_state.pb.h"

namespace smarketing {

// The most contacts an account lists.
inline constexpr int kMaxAccountContacts = 500;

// One contact as stored.
struct AccountLead {
  const v1::Lead* lead = nullptr;
  const LeadState* state = nullptr;
};

// The account `domain` (an AccountKey) from `contacts` (by lead id, the
// first kMaxAccountContacts; `truncated` when more are stored), with the
// personas and account scoring of `playbook` (the score at `now`) and the
// owners of `routing`.
v1::Account SummarizeAccount(absl::string_view domain,
                             const std::vector<AccountLead>& contacts,
                             bool truncated, const v1::Playbook& playbook,
                             const v1::RoutingState& routing, absl::Time now);

// What an account's score reads of one contact as stored.
struct AccountScoreInput {
  double fit = 0;
  double engagement = 0;
  // When `engagement` was computed: it decays from then on.
  absl::Time scored_at = absl::InfiniteFuture();
  bool disqualified = false;
};

// The input of a contact whose latest score is `score` at stage `stage`.
AccountScoreInput AccountScoreInputOf(const v1::ScoreResult& score,
                                      v1::LifecycleStage stage);

// The score of an account with `contacts` at `now` by `playbook`'s
// account_scoring (see AccountScoring), its figures rounded to the
// hundredth; nullopt when the Playbook declares none. The Playbook must be
// valid.
std::optional<v1::AccountScore> ScoreAccount(
    const v1::Playbook& playbook, absl::Span<const AccountScoreInput> contacts,
    absl::Time now);

// Whether contacts `a` and `b` weigh the same in the score of any account
// at `now` by `playbook` (then a write that turns one into the other
// leaves the account's score as it was).
bool SameAccountContribution(const v1::Playbook& playbook,
                             const AccountScoreInput& a,
                             const AccountScoreInput& b, absl::Time now);

// Whether an account's score or grade differs between `a` and `b` (unset
// when the account has no score).
bool AccountScoreChanged(const std::optional<v1::AccountScore>& a,
                         const std::optional<v1::AccountScore>& b);

// Account owners one request may set.
inline constexpr int kMaxAccountOwnersPerRequest = 10000;

// Sets the owners of accounts in `routing` (account_owners, which routing
// honours for the account's next leads): each owner must be a sales member
// of their team, a team of `playbook`, by the Playbook or by their status
// in `routing`; an empty team and owner removes the account's owner. On any
// problem: INVALID_ARGUMENT naming each ("owners[3].owner_id"), and
// `routing` is unchanged. Returns how many accounts changed owner.
absl::StatusOr<int> SetAccountOwners(
    const v1::Playbook& playbook,
    const google::protobuf::RepeatedPtrField<v1::AccountOwnerAssignment>&
        owners,
    v1::RoutingState* routing);

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_ACCOUNT_H_
