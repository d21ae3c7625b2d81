#include "grpc_server/access.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace smarketing {
namespace {

// Roles are cumulative (reader < sales < marketing < admin): reading and
// scoring for everyone, feedback and stage moves for sales, what changes
// leads and Playbooks for marketing, what reshapes the contract or erases
// data for admins.
constexpr MethodAccess kTable[] = {
    {"LeadService.UpsertLead", Role::kMarketing, Role::kMarketing, ""},
    {"LeadService.RecordEvents", Role::kMarketing, Role::kMarketing, ""},
    {"LeadService.StreamEvents", Role::kMarketing, Role::kMarketing, ""},
    {"LeadService.GetLead", Role::kReader, Role::kReader, ""},
    {"LeadService.GetAccount", Role::kReader, Role::kReader, ""},
    {"LeadService.ListAccounts", Role::kReader, Role::kReader, ""},
    {"LeadService.ListLeads", Role::kReader, Role::kReader, ""},
    {"LeadService.RecordFeedback", Role::kSales, Role::kSales, ""},
    {"LeadService.TransitionLead", Role::kSales, Role::kSales, ""},
    {"LeadService.RecordFirstTouch", Role::kSales, Role::kSales, ""},
    {"LeadService.EraseLead", Role::kAdmin, Role::kAdmin, ""},
    {"LeadService.ListChanges", Role::kReader, Role::kReader, ""},
    {"LeadService.WatchChanges", Role::kReader, Role::kReader, ""},
    {"LeadService.ImportLeads", Role::kMarketing, Role::kMarketing, ""},
    {"PlaybookService.ValidatePlaybook", Role::kMarketing, Role::kMarketing,
     ""},
    {"PlaybookService.PublishPlaybook", Role::kMarketing, Role::kAdmin,
     "activate"},
    {"PlaybookService.ActivatePlaybook", Role::kAdmin, Role::kAdmin, ""},
    {"PlaybookService.GetPlaybook", Role::kReader, Role::kReader, ""},
    {"PlaybookService.ListPlaybookVersions", Role::kReader, Role::kReader, ""},
    {"PlaybookService.GetRescoreStatus", Role::kReader, Role::kReader, ""},
    {"ReportService.ListSlaLeads", Role::kReader, Role::kReader, ""},
    {"ReportService.GetClosedLoopReport", Role::kReader, Role::kReader, ""},
    {"ReportService.GetReview", Role::kReader, Role::kReader, ""},
    {"ScoringService.ScoreLead", Role::kReader, Role::kReader, ""},
    {"ScoringService.ScoreLeads", Role::kReader, Role::kReader, ""},
    {"ScoringService.ExplainLead", Role::kReader, Role::kReader, ""},
    {"TeamService.SetMemberStatus", Role::kMarketing, Role::kAdmin,
     "update_mask \"teams\""},
    {"TeamService.GetMemberStatus", Role::kReader, Role::kReader, ""},
    {"TeamService.SetAccountOwners", Role::kAdmin, Role::kAdmin, ""},
    // Webhooks send lead data out of the service: admins only.
    {"WebhookService.CreateWebhook", Role::kAdmin, Role::kAdmin, ""},
    {"WebhookService.ListWebhooks", Role::kAdmin, Role::kAdmin, ""},
    {"WebhookService.DeleteWebhook", Role::kAdmin, Role::kAdmin, ""},
    {"WebhookService.ListDeadLetters", Role::kAdmin, Role::kAdmin, ""},
    {"WebhookService.ReplayDeadLetter", Role::kAdmin, Role::kAdmin, ""},
};

const MethodAccess* Find(absl::string_view method) {
  static const auto* const index = [] {
    auto* map = new absl::flat_hash_map<absl::string_view, const MethodAccess*>;
    for (const MethodAccess& rule : kTable) (*map)[rule.method] = &rule;
    return map;
  }();
  auto it = index->find(method);
  return it == index->end() ? nullptr : it->second;
}

}  // namespace

absl::Span<const MethodAccess> MethodAccessTable() { return kTable; }

absl::StatusOr<Caller> Authorize(const TokenTable& tokens,
                                 const grpc::ServerContextBase& context,
                                 absl::string_view method, bool elevated) {
  auto caller = tokens.Authenticate(context);
  if (!caller.ok()) return caller.status();
  const MethodAccess* rule = Find(method);
  if (rule == nullptr) {
    // Fail closed: a method nobody gave a rule is refused to everyone.
    return absl::PermissionDeniedError(
        absl::StrCat(method, " has no access rule"));
  }
  if (caller->role < rule->role) {
    return absl::PermissionDeniedError(
        absl::StrCat("this call needs the ", RoleName(rule->role),
                     " role; the token has ", RoleName(caller->role)));
  }
  if (elevated && caller->role < rule->elevated_role) {
    return absl::PermissionDeniedError(absl::StrCat(
        rule->elevated_part, " needs the ", RoleName(rule->elevated_role),
        " role; the token has ", RoleName(caller->role)));
  }
  return caller;
}

}  // namespace smarketing
