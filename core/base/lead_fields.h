// The flat fields of a Lead, declared once: the column that carries each in
// CSV files and DataFrames, the path Playbook conditions read it by, its
// type, and how to read, set and clear it on a v1::Lead. The CSV and table
// readers, the column writer, the condition compiler and evaluator, and the
// data checks all take their lists from here.
#ifndef SMARKETING_CORE_BASE_LEAD_FIELDS_H_
#define SMARKETING_CORE_BASE_LEAD_FIELDS_H_

#include <cstdint>
#include <iterator>
#include <string>

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// The fields of a lead, an event and a score that smarketing reads by name.
// The lead's own fields come first, in the order of kLeadFields.
enum class FieldId : uint8_t {
  kLeadId,
  kFirstName,
  kLastName,
  kEmail,
  kEmailDomain,  // contact.email after its last '@'
  kPhone,
  kJobTitle,
  kDepartment,
  kSeniority,
  kCompanyName,
  kCompanyDomain,
  kIndustry,
  kEmployeeCount,
  kAnnualRevenue,
  kCountry,
  kRegion,
  kSource,
  kCampaign,
  kProduct,
  kOptedOut,
  kDoNotEmail,
  kDoNotCall,
  kCreatedAt,
  kAttribute,  // attributes.<key>[.<key>...]
  kEventType,
  kEventCustomType,
  kEventProperty,  // event.properties.<key>[.<key>...]
  kScoreFit,
  kScoreGrade,
  kScorePersona,
  kScoreEngagement,
  kScoreTotal,
  kScoreHandRaiser,
};

// How a lead field's values are written in files and frames.
enum class LeadFieldType : uint8_t {
  kText,
  kWholeNumber,  // company.employee_count
  kNumber,
  kBool,
  kSeniority,  // a v1::Seniority, by its short name ("vp")
  kTime,
};

// What a lead field is for, which decides how reports may treat it.
enum class LeadFieldRole : uint8_t {
  kId,
  kContact,      // personal data, there to reach the person: never quoted
  kDescriptive,  // what rules score
  kConsent,      // never guessed: every lead gives true or false
  kCreated,
};

struct LeadField {
  FieldId id;
  // The column in CSV files and DataFrames ("company_name"). A derived
  // field names the column it is computed from.
  absl::string_view column;
  // The path in Playbook conditions ("company.name"); empty when conditions
  // cannot read the field.
  absl::string_view path;
  LeadFieldType type;
  LeadFieldRole role;
  // Computed from another column (contact.email_domain): never read or
  // written as a column of its own.
  bool derived = false;
  // Nearly every lead has its own value (ids, e-mails, phones): columns
  // hold them without a dictionary.
  bool unique = false;
};

inline constexpr LeadField kLeadFields[] = {
    {FieldId::kLeadId, "id", "id", LeadFieldType::kText, LeadFieldRole::kId,
     /*derived=*/false, /*unique=*/true},
    {FieldId::kFirstName, "first_name", "contact.first_name",
     LeadFieldType::kText, LeadFieldRole::kContact},
    {FieldId::kLastName, "last_name", "contact.last_name", LeadFieldType::kText,
     LeadFieldRole::kContact},
    {FieldId::kEmail, "email", "contact.email", LeadFieldType::kText,
     LeadFieldRole::kContact, /*derived=*/false, /*unique=*/true},
    {FieldId::kEmailDomain, "email", "contact.email_domain",
     LeadFieldType::kText, LeadFieldRole::kContact, /*derived=*/true},
    {FieldId::kPhone, "phone", "contact.phone", LeadFieldType::kText,
     LeadFieldRole::kContact, /*derived=*/false, /*unique=*/true},
    {FieldId::kJobTitle, "job_title", "job_title", LeadFieldType::kText,
     LeadFieldRole::kDescriptive},
    {FieldId::kDepartment, "department", "department", LeadFieldType::kText,
     LeadFieldRole::kDescriptive},
    {FieldId::kSeniority, "seniority", "seniority", LeadFieldType::kSeniority,
     LeadFieldRole::kDescriptive},
    {FieldId::kCompanyName, "company_name", "company.name",
     LeadFieldType::kText, LeadFieldRole::kDescriptive},
    {FieldId::kCompanyDomain, "company_domain", "company.domain",
     LeadFieldType::kText, LeadFieldRole::kDescriptive},
    {FieldId::kIndustry, "industry", "company.industry", LeadFieldType::kText,
     LeadFieldRole::kDescriptive},
    {FieldId::kEmployeeCount, "employee_count", "company.employee_count",
     LeadFieldType::kWholeNumber, LeadFieldRole::kDescriptive},
    {FieldId::kAnnualRevenue, "annual_revenue", "company.annual_revenue",
     LeadFieldType::kNumber, LeadFieldRole::kDescriptive},
    {FieldId::kCountry, "country", "company.country", LeadFieldType::kText,
     LeadFieldRole::kDescriptive},
    {FieldId::kRegion, "region", "company.region", LeadFieldType::kText,
     LeadFieldRole::kDescriptive},
    {FieldId::kSource, "source", "source", LeadFieldType::kText,
     LeadFieldRole::kDescriptive},
    {FieldId::kCampaign, "campaign", "campaign", LeadFieldType::kText,
     LeadFieldRole::kDescriptive},
    {FieldId::kProduct, "product", "product", LeadFieldType::kText,
     LeadFieldRole::kDescriptive},
    {FieldId::kOptedOut, "opted_out", "consent.opted_out", LeadFieldType::kBool,
     LeadFieldRole::kConsent},
    {FieldId::kDoNotEmail, "do_not_email", "consent.do_not_email",
     LeadFieldType::kBool, LeadFieldRole::kConsent},
    {FieldId::kDoNotCall, "do_not_call", "consent.do_not_call",
     LeadFieldType::kBool, LeadFieldRole::kConsent},
    {FieldId::kCreatedAt, "created_at", "", LeadFieldType::kTime,
     LeadFieldRole::kCreated},
};

// The lead field `id` names, or nullptr for attributes, events and scores.
inline const LeadField* FindLeadField(FieldId id) {
  const auto i = static_cast<size_t>(id);
  return i < std::size(kLeadFields) ? &kLeadFields[i] : nullptr;
}

// The lead field carried by `column`, or nullptr (derived fields have no
// column of their own).
const LeadField* FindLeadColumn(absl::string_view column);

// "id, first_name, ..., created_at": the lead columns, for error messages.
std::string LeadColumnNames();

// Accessors by id, for fields of the matching LeadFieldType; inline because
// scoring reads fields in its innermost loop.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::string_view LeadText(
    const v1::Lead& lead, FieldId id) {
  switch (id) {
    case FieldId::kLeadId:
      return lead.id();
    case FieldId::kFirstName:
      return lead.contact().first_name();
    case FieldId::kLastName:
      return lead.contact().last_name();
    case FieldId::kEmail:
      return lead.contact().email();
    case FieldId::kEmailDomain: {
      const absl::string_view email = lead.contact().email();
      const size_t at = email.rfind('@');
      return at == absl::string_view::npos ? absl::string_view()
                                           : email.substr(at + 1);
    }
    case FieldId::kPhone:
      return lead.contact().phone();
    case FieldId::kJobTitle:
      return lead.job_title();
    case FieldId::kDepartment:
      return lead.department();
    case FieldId::kCompanyName:
      return lead.company().name();
    case FieldId::kCompanyDomain:
      return lead.company().domain();
    case FieldId::kIndustry:
      return lead.company().industry();
    case FieldId::kCountry:
      return lead.company().country();
    case FieldId::kRegion:
      return lead.company().region();
    case FieldId::kSource:
      return lead.source();
    case FieldId::kCampaign:
      return lead.campaign();
    case FieldId::kProduct:
      return lead.product();
    default:
      return {};
  }
}

// kWholeNumber and kNumber fields, as conditions compare them.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline double LeadNumber(const v1::Lead& lead,
                                                      FieldId id) {
  switch (id) {
    case FieldId::kEmployeeCount:
      return static_cast<double>(lead.company().employee_count());
    case FieldId::kAnnualRevenue:
      return lead.company().annual_revenue();
    default:
      return 0;
  }
}

// kWholeNumber and kSeniority fields.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline int64_t LeadInteger(const v1::Lead& lead,
                                                        FieldId id) {
  switch (id) {
    case FieldId::kEmployeeCount:
      return lead.company().employee_count();
    case FieldId::kSeniority:
      return lead.seniority();
    default:
      return 0;
  }
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool LeadBool(const v1::Lead& lead,
                                                  FieldId id) {
  switch (id) {
    case FieldId::kOptedOut:
      return lead.consent().opted_out();
    case FieldId::kDoNotEmail:
      return lead.consent().do_not_email();
    case FieldId::kDoNotCall:
      return lead.consent().do_not_call();
    default:
      return false;
  }
}

// A kTime field, or nullptr when it is unset.
inline const google::protobuf::Timestamp* LeadTime(const v1::Lead& lead,
                                                   FieldId id) {
  return id == FieldId::kCreatedAt && lead.has_created_at() ? &lead.created_at()
                                                            : nullptr;
}

// The string a kText field is stored in; nullptr for other fields.
std::string* MutableLeadText(v1::Lead* lead, FieldId id);
// Sets a kWholeNumber or kSeniority field.
void SetLeadInteger(v1::Lead* lead, FieldId id, int64_t value);
// Sets a kNumber field.
void SetLeadNumber(v1::Lead* lead, FieldId id, double value);
void SetLeadBool(v1::Lead* lead, FieldId id, bool value);
// The Timestamp a kTime field is stored in; nullptr for other fields.
google::protobuf::Timestamp* MutableLeadTime(v1::Lead* lead, FieldId id);
// Unsets the field, as if the lead never had it.
void ClearLeadField(v1::Lead* lead, FieldId id);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_LEAD_FIELDS_H_
