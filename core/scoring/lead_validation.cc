#include "core/scoring/lead_validation.h"

#include <cmath>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"

namespace smarketing {
namespace {

// Paths are built only on failure: validation runs on every scored lead.
template <typename PathFn>
absl::Status CheckText(const std::string& value, PathFn path,
                       size_t limit = kMaxTextBytes) {
  if (value.size() > limit) {
    return FieldError(path(),
                      absl::StrCat("is ", value.size(), " bytes long; at most ",
                                   limit, " are accepted"));
  }
  return absl::OkStatus();
}

// Builds the path of a value only when it is reported: structs are checked
// key by key on every scored lead, and a path per key would cost more than
// the checks.
using LazyPath = absl::FunctionRef<std::string()>;

absl::Status CheckValue(const google::protobuf::Value& value, LazyPath path,
                        int depth);

absl::Status CheckStruct(const google::protobuf::Struct& s, LazyPath path,
                         int depth) {
  if (depth > kMaxValueDepth) {
    return FieldError(path(), absl::StrCat("is nested more than ",
                                           kMaxValueDepth, " levels deep"));
  }
  for (const auto& entry : s.fields()) {
    // Not a structured binding: clang before 16 cannot capture one.
    const std::string& key = entry.first;
    auto child = [&] { return absl::StrCat(path(), ".", key); };
    if (auto st = CheckText(key, child, kMaxIdBytes); !st.ok()) return st;
    if (auto st = CheckValue(entry.second, child, depth + 1); !st.ok())
      return st;
  }
  return absl::OkStatus();
}

absl::Status CheckValue(const google::protobuf::Value& value, LazyPath path,
                        int depth) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return CheckText(value.string_value(), path);
    case google::protobuf::Value::kNumberValue:
      if (!std::isfinite(value.number_value())) {
        return FieldError(path(), "must be a finite number");
      }
      return absl::OkStatus();
    case google::protobuf::Value::kStructValue:
      return CheckStruct(value.struct_value(), path, depth);
    case google::protobuf::Value::kListValue:
      if (depth > kMaxValueDepth) {
        return FieldError(path(), absl::StrCat("is nested more than ",
                                               kMaxValueDepth, " levels deep"));
      }
      for (int i = 0; i < value.list_value().values_size(); ++i) {
        auto item = [&] { return absl::StrCat(path(), "[", i, "]"); };
        if (auto st = CheckValue(value.list_value().values(i), item, depth + 1);
            !st.ok()) {
          return st;
        }
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

template <typename PathFn>
absl::Status CheckTimestamp(const google::protobuf::Timestamp& t, PathFn path) {
  if (t.seconds() < kMinTimestampSeconds ||
      t.seconds() > kMaxTimestampSeconds || t.nanos() < 0 ||
      t.nanos() >= 1000000000) {
    return FieldError(path(), "is not a valid time (years 1 to 9999)");
  }
  return absl::OkStatus();
}

// The same checks as above without building any path or status: true when
// they all pass. Leads are valid almost always, so the hot path is one walk
// of plain comparisons; on failure the checks above run again to name the
// field.
bool ValueIsValid(const google::protobuf::Value& value, int depth);

bool StructIsValid(const google::protobuf::Struct& s, int depth) {
  if (depth > kMaxValueDepth) return false;
  const auto& fields = s.fields();
  // Counted: stepping past the last entry would scan the rest of the map's
  // buckets, which costs more than checking a small Struct.
  size_t remaining = fields.size();
  if (remaining == 0) return true;
  for (auto it = fields.begin();; ++it) {
    if (it->first.size() > kMaxIdBytes ||
        !ValueIsValid(it->second, depth + 1)) {
      return false;
    }
    if (--remaining == 0) return true;
  }
}

bool ValueIsValid(const google::protobuf::Value& value, int depth) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return value.string_value().size() <= kMaxTextBytes;
    case google::protobuf::Value::kNumberValue:
      return std::isfinite(value.number_value());
    case google::protobuf::Value::kStructValue:
      return StructIsValid(value.struct_value(), depth);
    case google::protobuf::Value::kListValue:
      if (depth > kMaxValueDepth) return false;
      for (const google::protobuf::Value& item : value.list_value().values()) {
        if (!ValueIsValid(item, depth + 1)) return false;
      }
      return true;
    default:
      return true;
  }
}

bool EventIsValid(const v1::Event& event) {
  if (!event.has_occurred_at()) return false;
  FlatEvent fields;
  fields.id = event.id();
  fields.custom_type = event.custom_type();
  fields.type = event.type();
  fields.seconds = event.occurred_at().seconds();
  fields.nanos = event.occurred_at().nanos();
  if (!EventFieldsAreValid(fields)) return false;
  // Properties without entries are valid; skip the map's synchronisation.
  if (!event.has_properties()) return true;
  return StructIsValid(event.properties(), 1);
}

bool LeadIsValid(const v1::Lead& lead) {
  const size_t id_size = lead.id().size();
  if (id_size == 0 || id_size > kMaxIdBytes) return false;
  const v1::Contact& contact = lead.contact();
  const v1::Company& company = lead.company();
  if (contact.first_name().size() > kMaxTextBytes ||
      contact.last_name().size() > kMaxTextBytes ||
      contact.email().size() > kMaxTextBytes ||
      contact.phone().size() > kMaxTextBytes ||
      lead.job_title().size() > kMaxTextBytes ||
      lead.department().size() > kMaxTextBytes ||
      company.name().size() > kMaxTextBytes ||
      company.domain().size() > kMaxTextBytes ||
      company.industry().size() > kMaxTextBytes ||
      company.country().size() > kMaxTextBytes ||
      company.region().size() > kMaxTextBytes ||
      lead.source().size() > kMaxTextBytes ||
      lead.campaign().size() > kMaxTextBytes ||
      lead.product().size() > kMaxTextBytes) {
    return false;
  }
  const double revenue = company.annual_revenue();
  if (!v1::Seniority_IsValid(lead.seniority()) ||
      company.employee_count() < 0 || !std::isfinite(revenue) || revenue < 0) {
    return false;
  }
  if (lead.has_attributes() && !StructIsValid(lead.attributes(), 1)) {
    return false;
  }
  if (lead.has_created_at() && !IsValidTimestamp(lead.created_at())) {
    return false;
  }
  if (lead.events_size() > kMaxEventsPerLead) return false;
  for (const v1::Event& event : lead.events()) {
    if (!EventIsValid(event)) return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateEvent(const v1::Event& event, absl::string_view path) {
  if (EventIsValid(event)) return absl::OkStatus();
  auto at = [&](absl::string_view field) {
    return absl::StrCat(path, ".", field);
  };
  if (event.id().empty()) {
    return FieldError(at("id"),
                      "is required: it is how a retried delivery is counted "
                      "once");
  }
  if (auto st = CheckText(
          event.id(), [&] { return at("id"); }, kMaxIdBytes);
      !st.ok()) {
    return st;
  }
  if (event.type() == v1::EVENT_TYPE_UNSPECIFIED) {
    return FieldError(at("type"), "is required");
  }
  if (!v1::EventType_IsValid(event.type())) {
    return FieldError(at("type"),
                      absl::StrCat("unknown event type ", event.type()));
  }
  if (event.type() == v1::EVENT_TYPE_CUSTOM && event.custom_type().empty()) {
    return FieldError(at("custom_type"), "is required for a custom event");
  }
  if (auto st = CheckText(
          event.custom_type(), [&] { return at("custom_type"); }, kMaxIdBytes);
      !st.ok()) {
    return st;
  }
  if (!event.has_occurred_at()) {
    return FieldError(at("occurred_at"), "is required");
  }
  if (auto st = CheckTimestamp(event.occurred_at(),
                               [&] { return at("occurred_at"); });
      !st.ok()) {
    return st;
  }
  if (event.properties().fields().empty()) return absl::OkStatus();
  return CheckStruct(
      event.properties(), [&] { return at("properties"); }, 1);
}

absl::Status ValidateLead(const v1::Lead& lead) {
  if (LeadIsValid(lead)) return absl::OkStatus();
  if (lead.id().empty()) return FieldError("id", "is required");
  if (auto st = CheckText(
          lead.id(), [] { return "id"; }, kMaxIdBytes);
      !st.ok()) {
    return st;
  }
  const struct {
    const std::string& value;
    const char* path;
  } texts[] = {
      {lead.contact().first_name(), "contact.first_name"},
      {lead.contact().last_name(), "contact.last_name"},
      {lead.contact().email(), "contact.email"},
      {lead.contact().phone(), "contact.phone"},
      {lead.job_title(), "job_title"},
      {lead.department(), "department"},
      {lead.company().name(), "company.name"},
      {lead.company().domain(), "company.domain"},
      {lead.company().industry(), "company.industry"},
      {lead.company().country(), "company.country"},
      {lead.company().region(), "company.region"},
      {lead.source(), "source"},
      {lead.campaign(), "campaign"},
      {lead.product(), "product"},
  };
  for (const auto& text : texts) {
    if (auto st = CheckText(text.value, [&] { return text.path; }); !st.ok()) {
      return st;
    }
  }
  if (!v1::Seniority_IsValid(lead.seniority())) {
    return FieldError("seniority",
                      absl::StrCat("unknown seniority ", lead.seniority()));
  }
  if (lead.company().employee_count() < 0) {
    return FieldError("company.employee_count", "must not be negative");
  }
  const double revenue = lead.company().annual_revenue();
  if (!std::isfinite(revenue) || revenue < 0) {
    return FieldError("company.annual_revenue",
                      "must be a finite number, not negative");
  }
  if (auto st = CheckStruct(
          lead.attributes(), [] { return std::string("attributes"); }, 1);
      !st.ok()) {
    return st;
  }
  if (lead.has_created_at()) {
    if (auto st =
            CheckTimestamp(lead.created_at(), [] { return "created_at"; });
        !st.ok()) {
      return st;
    }
  }
  if (lead.events_size() > kMaxEventsPerLead) {
    return FieldError(
        "events", absl::StrCat("has ", lead.events_size(), " events; at most ",
                               kMaxEventsPerLead, " are accepted per lead"));
  }
  for (int i = 0; i < lead.events_size(); ++i) {
    if (auto st = ValidateEvent(lead.events(i), "events"); !st.ok()) {
      // Re-run with the indexed path only on failure, to keep the hot path
      // free of string building.
      return ValidateEvent(lead.events(i), absl::StrCat("events[", i, "]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace smarketing
