#include "core/base/lead_fields.h"

#include <vector>

#include "absl/strings/str_join.h"

namespace smarketing {
namespace {

// FindLeadField indexes kLeadFields by id.
constexpr bool InIdOrder() {
  for (size_t i = 0; i < std::size(kLeadFields); ++i) {
    if (static_cast<size_t>(kLeadFields[i].id) != i) return false;
  }
  return true;
}
static_assert(InIdOrder(), "kLeadFields must list the fields in FieldId order");

}  // namespace

const LeadField* FindLeadColumn(absl::string_view column) {
  for (const LeadField& field : kLeadFields) {
    if (!field.derived && field.column == column) return &field;
  }
  return nullptr;
}

std::string LeadColumnNames() {
  std::vector<absl::string_view> names;
  for (const LeadField& field : kLeadFields) {
    if (!field.derived) names.push_back(field.column);
  }
  return absl::StrJoin(names, ", ");
}

std::string* MutableLeadText(v1::Lead* lead, FieldId id) {
  switch (id) {
    case FieldId::kLeadId:
      return lead->mutable_id();
    case FieldId::kFirstName:
      return lead->mutable_contact()->mutable_first_name();
    case FieldId::kLastName:
      return lead->mutable_contact()->mutable_last_name();
    case FieldId::kEmail:
      return lead->mutable_contact()->mutable_email();
    case FieldId::kPhone:
      return lead->mutable_contact()->mutable_phone();
    case FieldId::kJobTitle:
      return lead->mutable_job_title();
    case FieldId::kDepartment:
      return lead->mutable_department();
    case FieldId::kCompanyName:
      return lead->mutable_company()->mutable_name();
    case FieldId::kCompanyDomain:
      return lead->mutable_company()->mutable_domain();
    case FieldId::kIndustry:
      return lead->mutable_company()->mutable_industry();
    case FieldId::kCountry:
      return lead->mutable_company()->mutable_country();
    case FieldId::kRegion:
      return lead->mutable_company()->mutable_region();
    case FieldId::kSource:
      return lead->mutable_source();
    case FieldId::kCampaign:
      return lead->mutable_campaign();
    case FieldId::kProduct:
      return lead->mutable_product();
    default:
      return nullptr;
  }
}

void SetLeadInteger(v1::Lead* lead, FieldId id, int64_t value) {
  switch (id) {
    case FieldId::kEmployeeCount:
      lead->mutable_company()->set_employee_count(value);
      break;
    case FieldId::kSeniority:
      lead->set_seniority(static_cast<v1::Seniority>(value));
      break;
    default:
      break;
  }
}

void SetLeadNumber(v1::Lead* lead, FieldId id, double value) {
  if (id == FieldId::kAnnualRevenue) {
    lead->mutable_company()->set_annual_revenue(value);
  }
}

void SetLeadBool(v1::Lead* lead, FieldId id, bool value) {
  switch (id) {
    case FieldId::kOptedOut:
      lead->mutable_consent()->set_opted_out(value);
      break;
    case FieldId::kDoNotEmail:
      lead->mutable_consent()->set_do_not_email(value);
      break;
    case FieldId::kDoNotCall:
      lead->mutable_consent()->set_do_not_call(value);
      break;
    default:
      break;
  }
}

google::protobuf::Timestamp* MutableLeadTime(v1::Lead* lead, FieldId id) {
  return id == FieldId::kCreatedAt ? lead->mutable_created_at() : nullptr;
}

void ClearLeadField(v1::Lead* lead, FieldId id) {
  switch (id) {
    case FieldId::kEmployeeCount:
      lead->mutable_company()->clear_employee_count();
      return;
    case FieldId::kAnnualRevenue:
      lead->mutable_company()->clear_annual_revenue();
      return;
    case FieldId::kSeniority:
      lead->clear_seniority();
      return;
    case FieldId::kCreatedAt:
      lead->clear_created_at();
      return;
    case FieldId::kOptedOut:
    case FieldId::kDoNotEmail:
    case FieldId::kDoNotCall:
      SetLeadBool(lead, id, false);
      return;
    default:
      if (std::string* text = MutableLeadText(lead, id)) text->clear();
      return;
  }
}

}  // namespace smarketing
