#include "core/journey/member_status.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"

namespace smarketing {
namespace {

constexpr int32_t kMaxCapacity = 100000;
constexpr const char* kFields[] = {"paused", "out_of_office", "max_open_leads",
                                   "teams"};

bool IsSalesMember(const v1::Playbook& playbook, const std::string& id) {
  for (const v1::Team& team : playbook.routing().teams()) {
    for (const v1::TeamMember& m : team.members()) {
      if (m.id() == id && m.role() == v1::MEMBER_ROLE_SALES) return true;
    }
  }
  return false;
}

}  // namespace

absl::Status UpdateMemberStatus(const v1::Playbook& playbook,
                                const v1::MemberStatus& update,
                                absl::Span<const std::string> fields,
                                v1::MemberStatus* current) {
  if (update.member_id().empty()) {
    return FieldError("status.member_id", "required");
  }
  if (fields.empty()) {
    return FieldError(
        "update_mask",
        absl::StrCat("name the fields to set: ", absl::StrJoin(kFields, ", ")));
  }
  absl::flat_hash_set<std::string> set;
  for (const std::string& field : fields) {
    if (std::find(std::begin(kFields), std::end(kFields), field) ==
        std::end(kFields)) {
      return FieldError("update_mask",
                        absl::StrCat("unknown field \"", field, "\"; fields: ",
                                     absl::StrJoin(kFields, ", ")));
    }
    set.insert(field);
  }
  if (!set.contains("teams") && !IsSalesMember(playbook, update.member_id())) {
    return FieldError("status.member_id",
                      absl::StrCat("\"", update.member_id(),
                                   "\" is no sales member of the active "
                                   "Playbook; give their teams to add them"));
  }
  if (set.contains("out_of_office")) {
    if (update.out_of_office_size() > kMaxMemberAbsences) {
      return FieldError(
          "status.out_of_office",
          absl::StrCat("at most ", kMaxMemberAbsences, " absences"));
    }
    for (int i = 0; i < update.out_of_office_size(); ++i) {
      const v1::TimeInterval& away = update.out_of_office(i);
      const std::string path = absl::StrCat("status.out_of_office[", i, "]");
      if (!away.has_start()) return FieldError(path + ".start", "required");
      if (!away.has_end()) return FieldError(path + ".end", "required");
      if (TimeFromProto(away.end()) <= TimeFromProto(away.start())) {
        return FieldError(path + ".end", "must be after start");
      }
    }
  }
  if (set.contains("max_open_leads") &&
      (update.max_open_leads() < 0 || update.max_open_leads() > kMaxCapacity)) {
    return FieldError("status.max_open_leads",
                      absl::StrCat("must be in [0, ", kMaxCapacity, "]; found ",
                                   update.max_open_leads()));
  }
  if (set.contains("teams")) {
    absl::flat_hash_set<std::string> known;
    for (const v1::Team& team : playbook.routing().teams()) {
      known.insert(team.id());
    }
    const auto& ids = update.teams().team_ids();
    for (int i = 0; i < ids.size(); ++i) {
      if (!known.contains(ids[i])) {
        return FieldError(
            absl::StrCat("status.teams.team_ids[", i, "]"),
            absl::StrCat("no team \"", ids[i], "\" in the active Playbook"));
      }
    }
  }

  current->set_member_id(update.member_id());
  if (set.contains("paused")) current->set_paused(update.paused());
  if (set.contains("out_of_office")) {
    *current->mutable_out_of_office() = update.out_of_office();
  }
  if (set.contains("max_open_leads")) {
    current->set_max_open_leads(update.max_open_leads());
  }
  if (set.contains("teams")) *current->mutable_teams() = update.teams();
  return absl::OkStatus();
}

}  // namespace smarketing
