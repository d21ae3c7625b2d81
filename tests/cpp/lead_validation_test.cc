// Leads come from CRMs, web forms and hostile clients alike. Every lead is
// validated before it is scored or stored, so each rule is pinned here with
// the path it reports: callers map it to a field violation, and a wrong path
// sends people looking at the wrong field.
#include "core/scoring/lead_validation.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smarketing/v1/event.pb.h"
#include "smarketing/v1/lead.pb.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::testing::HasSubstr;
using testing::LeadFromYaml;

// A lead that passes every check; tests break one field at a time.
v1::Lead GoodLead() {
  return LeadFromYaml(R"(
id: lead-1
contact: {first_name: Ada, last_name: Lovelace, email: ada@acme.io}
job_title: CTO
seniority: c_level
company: {name: Acme, domain: acme.io, employee_count: 120, annual_revenue: 5e6}
attributes: {plan: pro, tech: {crm: hubspot}, tags: [a, b]}
events:
  - {id: e1, type: page_view, occurred_at: "2026-11-20T10:00:00Z", properties: {url: /pricing}}
  - {id: e2, type: custom, custom_type: trial_invite, occurred_at: "2026-11-21T10:00:00Z"}
created_at: "2026-01-01T00:00:00Z"
)");
}

// The lead is refused at exactly `path`, with `phrase` in the message, and
// the problem is attached for callers that list field violations.
::testing::AssertionResult RefusedAt(const v1::Lead& lead,
                                     absl::string_view path,
                                     absl::string_view phrase) {
  const absl::Status status = ValidateLead(lead);
  if (status.ok()) return ::testing::AssertionFailure() << "accepted";
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "wrong code: " << status;
  }
  auto problems = ProblemsFromStatus(status);
  if (!problems.has_value() || problems->problems_size() != 1) {
    return ::testing::AssertionFailure()
           << "no single problem attached: " << status;
  }
  const auto& p = problems->problems(0);
  if (p.path() != path || !absl::StrContains(p.message(), phrase)) {
    return ::testing::AssertionFailure()
           << "expected " << path << ": ..." << phrase << "...; got "
           << p.path() << ": " << p.message();
  }
  if (!absl::StartsWith(status.message(), absl::StrCat(path, ": "))) {
    return ::testing::AssertionFailure()
           << "message does not start with the path: " << status.message();
  }
  return ::testing::AssertionSuccess();
}

TEST(LeadValidationTest, GoodLeadIsAccepted) {
  EXPECT_TRUE(ValidateLead(GoodLead()).ok()) << ValidateLead(GoodLead());
  // Nothing but an id is required.
  v1::Lead minimal;
  minimal.set_id("x");
  EXPECT_TRUE(ValidateLead(minimal).ok());
}

TEST(LeadValidationTest, IdIsRequired) {
  v1::Lead lead = GoodLead();
  lead.clear_id();
  EXPECT_TRUE(RefusedAt(lead, "id", "is required"));
}

TEST(LeadValidationTest, IdIsAtMost256Bytes) {
  v1::Lead lead = GoodLead();
  lead.set_id(std::string(256, 'x'));
  EXPECT_TRUE(ValidateLead(lead).ok());
  lead.set_id(std::string(257, 'x'));
  EXPECT_TRUE(RefusedAt(lead, "id", "257 bytes long; at most 256"));
}

TEST(LeadValidationTest, HugeTextFieldIsRefusedWithItsSize) {
  v1::Lead lead = GoodLead();
  lead.set_job_title(std::string(10 << 20, 'x'));
  EXPECT_TRUE(RefusedAt(lead, "job_title", "10485760 bytes"));
}

TEST(LeadValidationTest, EveryTextFieldHasTheLimit) {
  const std::pair<const char*, std::function<void(v1::Lead*, std::string)>>
      fields[] = {
          {"contact.first_name",
           [](v1::Lead* l, std::string s) {
             l->mutable_contact()->set_first_name(s);
           }},
          {"contact.last_name",
           [](v1::Lead* l, std::string s) {
             l->mutable_contact()->set_last_name(s);
           }},
          {"contact.email",
           [](v1::Lead* l, std::string s) {
             l->mutable_contact()->set_email(s);
           }},
          {"contact.phone",
           [](v1::Lead* l, std::string s) {
             l->mutable_contact()->set_phone(s);
           }},
          {"job_title",
           [](v1::Lead* l, std::string s) { l->set_job_title(s); }},
          {"department",
           [](v1::Lead* l, std::string s) { l->set_department(s); }},
          {"company.name",
           [](v1::Lead* l, std::string s) {
             l->mutable_company()->set_name(s);
           }},
          {"company.domain",
           [](v1::Lead* l, std::string s) {
             l->mutable_company()->set_domain(s);
           }},
          {"company.industry",
           [](v1::Lead* l, std::string s) {
             l->mutable_company()->set_industry(s);
           }},
          {"company.country",
           [](v1::Lead* l, std::string s) {
             l->mutable_company()->set_country(s);
           }},
          {"company.region",
           [](v1::Lead* l, std::string s) {
             l->mutable_company()->set_region(s);
           }},
          {"source", [](v1::Lead* l, std::string s) { l->set_source(s); }},
          {"campaign", [](v1::Lead* l, std::string s) { l->set_campaign(s); }},
          {"product", [](v1::Lead* l, std::string s) { l->set_product(s); }},
      };
  for (const auto& [path, set] : fields) {
    SCOPED_TRACE(path);
    v1::Lead lead = GoodLead();
    set(&lead, std::string(kMaxTextBytes, 'x'));
    EXPECT_TRUE(ValidateLead(lead).ok());
    set(&lead, std::string(kMaxTextBytes + 1, 'x'));
    EXPECT_TRUE(
        RefusedAt(lead, path, "bytes long; at most 65536 are accepted"));
  }
}

TEST(LeadValidationTest, NegativeEmployeeCount) {
  v1::Lead lead = GoodLead();
  lead.mutable_company()->set_employee_count(-1);
  EXPECT_TRUE(
      RefusedAt(lead, "company.employee_count", "must not be negative"));
  lead.mutable_company()->set_employee_count(0);
  EXPECT_TRUE(ValidateLead(lead).ok());
}

TEST(LeadValidationTest, RevenueMustBeFiniteAndNotNegative) {
  for (double revenue : {std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity(), -0.01}) {
    SCOPED_TRACE(revenue);
    v1::Lead lead = GoodLead();
    lead.mutable_company()->set_annual_revenue(revenue);
    EXPECT_TRUE(RefusedAt(lead, "company.annual_revenue",
                          "must be a finite number, not negative"));
  }
}

TEST(LeadValidationTest, UnknownSeniorityNumber) {
  v1::Lead lead = GoodLead();
  lead.set_seniority(static_cast<v1::Seniority>(42));
  EXPECT_TRUE(RefusedAt(lead, "seniority", "unknown seniority 42"));
  lead.set_seniority(v1::SENIORITY_UNSPECIFIED);
  EXPECT_TRUE(ValidateLead(lead).ok());
}

TEST(LeadValidationTest, CreatedAtInRange) {
  v1::Lead lead = GoodLead();
  lead.mutable_created_at()->set_seconds(253402300800);  // year 10000
  EXPECT_TRUE(
      RefusedAt(lead, "created_at", "is not a valid time (years 1 to 9999)"));
  lead.mutable_created_at()->set_seconds(253402300799);
  EXPECT_TRUE(ValidateLead(lead).ok());
  lead.mutable_created_at()->set_nanos(1000000000);
  EXPECT_TRUE(RefusedAt(lead, "created_at", "not a valid time"));
}

// ---------------------------------------------------------------------------
// Attributes

TEST(LeadValidationTest, AttributeNumbersMustBeFinite) {
  v1::Lead lead = GoodLead();
  (*lead.mutable_attributes()->mutable_fields())["score"].set_number_value(
      std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(RefusedAt(lead, "attributes.score", "must be a finite number"));
}

TEST(LeadValidationTest, AttributeNumbersInListsAndStructsMustBeFinite) {
  v1::Lead lead = GoodLead();
  auto* tags = (*lead.mutable_attributes()->mutable_fields())["tags"]
                   .mutable_list_value();
  tags->add_values()->set_number_value(std::numeric_limits<double>::infinity());
  EXPECT_TRUE(RefusedAt(lead, "attributes.tags[2]", "must be a finite number"));

  lead = GoodLead();
  (*(*lead.mutable_attributes()->mutable_fields())["tech"]
        .mutable_struct_value()
        ->mutable_fields())["seats"]
      .set_number_value(-std::numeric_limits<double>::infinity());
  EXPECT_TRUE(
      RefusedAt(lead, "attributes.tech.seats", "must be a finite number"));
}

TEST(LeadValidationTest, AttributeKeysAndTextHaveLimits) {
  v1::Lead lead = GoodLead();
  const std::string key(257, 'k');
  (*lead.mutable_attributes()->mutable_fields())[key].set_bool_value(true);
  EXPECT_TRUE(
      RefusedAt(lead, absl::StrCat("attributes.", key), "257 bytes long"));

  lead = GoodLead();
  (*lead.mutable_attributes()->mutable_fields())["bio"].set_string_value(
      std::string(kMaxTextBytes + 1, 'x'));
  EXPECT_TRUE(RefusedAt(lead, "attributes.bio", "bytes long"));
}

// `levels` Structs nested inside each other, the outermost being the
// attributes themselves.
google::protobuf::Struct NestedStruct(int levels) {
  google::protobuf::Struct root;
  google::protobuf::Struct* s = &root;
  for (int i = 1; i < levels; ++i) {
    s = (*s->mutable_fields())["a"].mutable_struct_value();
  }
  (*s->mutable_fields())["leaf"].set_string_value("x");
  return root;
}

TEST(LeadValidationTest, AttributesNestedTooDeep) {
  v1::Lead lead = GoodLead();
  *lead.mutable_attributes() = NestedStruct(20);
  const absl::Status status = ValidateLead(lead);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("is nested more than 16 levels deep"));
  auto problems = ProblemsFromStatus(status);
  ASSERT_TRUE(problems.has_value());
  EXPECT_TRUE(
      absl::StartsWith(problems->problems(0).path(), "attributes.a.a.a"));
}

TEST(LeadValidationTest, AttributeDepthLimitIsSixteen) {
  v1::Lead lead = GoodLead();
  *lead.mutable_attributes() = NestedStruct(kMaxValueDepth);
  EXPECT_TRUE(ValidateLead(lead).ok()) << ValidateLead(lead);
  *lead.mutable_attributes() = NestedStruct(kMaxValueDepth + 1);
  std::string path = "attributes";
  for (int i = 0; i < kMaxValueDepth; ++i) path += ".a";
  EXPECT_TRUE(RefusedAt(lead, path, "nested more than 16 levels deep"));
}

TEST(LeadValidationTest, DeepListsAreRefusedToo) {
  v1::Lead lead = GoodLead();
  google::protobuf::Value* v =
      &(*lead.mutable_attributes()->mutable_fields())["deep"];
  for (int i = 0; i < 40; ++i) v = v->mutable_list_value()->add_values();
  v->set_bool_value(true);
  const absl::Status status = ValidateLead(lead);
  ASSERT_FALSE(status.ok());
  auto problems = ProblemsFromStatus(status);
  ASSERT_TRUE(problems.has_value());
  EXPECT_TRUE(
      absl::StartsWith(problems->problems(0).path(), "attributes.deep[0][0]"));
  EXPECT_THAT(problems->problems(0).message(),
              HasSubstr("nested more than 16"));
}

// ---------------------------------------------------------------------------
// Events

v1::Lead WithEvent(absl::string_view event_yaml) {
  v1::Lead lead = GoodLead();
  v1::Lead holder = LeadFromYaml(absl::StrCat("events: [", event_yaml, "]"));
  *lead.add_events() = holder.events(0);
  return lead;
}

TEST(LeadValidationTest, EventIdIsRequired) {
  EXPECT_TRUE(RefusedAt(
      WithEvent("{type: page_view, occurred_at: 2026-11-20T10:00:00Z}"),
      "events[2].id", "is required"));
}

TEST(LeadValidationTest, EventIdIsAtMost256Bytes) {
  v1::Lead lead =
      WithEvent("{id: x, type: page_view, occurred_at: 2026-11-20T10:00:00Z}");
  lead.mutable_events(2)->set_id(std::string(257, 'e'));
  EXPECT_TRUE(RefusedAt(lead, "events[2].id", "257 bytes long"));
}

TEST(LeadValidationTest, EventTypeIsRequired) {
  EXPECT_TRUE(
      RefusedAt(WithEvent("{id: e3, occurred_at: 2026-11-20T10:00:00Z}"),
                "events[2].type", "is required"));
}

TEST(LeadValidationTest, UnknownEventTypeNumber) {
  v1::Lead lead =
      WithEvent("{id: e3, type: page_view, occurred_at: 2026-11-20T10:00:00Z}");
  lead.mutable_events(2)->set_type(static_cast<v1::EventType>(99));
  EXPECT_TRUE(RefusedAt(lead, "events[2].type", "unknown event type 99"));
}

TEST(LeadValidationTest, CustomEventNeedsCustomType) {
  EXPECT_TRUE(RefusedAt(
      WithEvent("{id: e3, type: custom, occurred_at: 2026-11-20T10:00:00Z}"),
      "events[2].custom_type", "is required for a custom event"));
  v1::Lead lead = WithEvent(
      "{id: e3, type: custom, custom_type: x, occurred_at: "
      "2026-11-20T10:00:00Z}");
  lead.mutable_events(2)->set_custom_type(std::string(257, 'c'));
  EXPECT_TRUE(RefusedAt(lead, "events[2].custom_type", "bytes long"));
}

TEST(LeadValidationTest, EventOccurredAtIsRequired) {
  EXPECT_TRUE(RefusedAt(WithEvent("{id: e3, type: page_view}"),
                        "events[2].occurred_at", "is required"));
}

TEST(LeadValidationTest, EventTimestampOutOfRange) {
  const struct {
    int64_t seconds;
    int32_t nanos;
  } bad[] = {
      {253402300800, 0},  // 10000-01-01
      {-62135596801, 0},  // before 0001-01-01
      {0, -1},           {0, 1000000000}, {INT64_MAX, 0},
  };
  for (const auto& t : bad) {
    SCOPED_TRACE(absl::StrCat(t.seconds, "s ", t.nanos, "ns"));
    v1::Lead lead = WithEvent(
        "{id: e3, type: page_view, occurred_at: 2026-11-20T10:00:00Z}");
    lead.mutable_events(2)->mutable_occurred_at()->set_seconds(t.seconds);
    lead.mutable_events(2)->mutable_occurred_at()->set_nanos(t.nanos);
    EXPECT_TRUE(RefusedAt(lead, "events[2].occurred_at",
                          "is not a valid time (years 1 to 9999)"));
  }
  v1::Lead lead =
      WithEvent("{id: e3, type: page_view, occurred_at: 0001-01-01T00:00:00Z}");
  EXPECT_TRUE(ValidateLead(lead).ok()) << ValidateLead(lead);
}

TEST(LeadValidationTest, EventPropertiesAreChecked) {
  v1::Lead lead = WithEvent(
      "{id: e3, type: page_view, occurred_at: 2026-11-20T10:00:00Z, "
      "properties: "
      "{utm: {source: x}}}");
  (*(*lead.mutable_events(2)->mutable_properties()->mutable_fields())["utm"]
        .mutable_struct_value()
        ->mutable_fields())["weight"]
      .set_number_value(std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(RefusedAt(lead, "events[2].properties.utm.weight",
                        "must be a finite number"));

  lead = GoodLead();
  *lead.mutable_events(0)->mutable_properties() = NestedStruct(30);
  const absl::Status status = ValidateLead(lead);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(absl::StartsWith(ProblemsFromStatus(status)->problems(0).path(),
                               "events[0].properties.a"));
}

TEST(LeadValidationTest, ReportsTheFirstBadEventByIndex) {
  v1::Lead lead = GoodLead();
  for (int i = 0; i < 5; ++i) {
    v1::Event* e = lead.add_events();
    e->set_id(absl::StrCat("x", i));
    e->set_type(v1::EVENT_TYPE_EMAIL_OPEN);
    e->mutable_occurred_at()->set_seconds(1700000000);
  }
  lead.mutable_events(4)->clear_occurred_at();
  lead.mutable_events(6)->clear_id();
  EXPECT_TRUE(RefusedAt(lead, "events[4].occurred_at", "is required"));
}

TEST(ValidateEventTest, UsesTheGivenPath) {
  v1::Event event;
  event.set_id("e");
  const absl::Status status = ValidateEvent(event, "request.event");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(ProblemsFromStatus(status)->problems(0).path(),
            "request.event.type");
}

// ---------------------------------------------------------------------------
// Event count

// Builds a lead holding `count` events that all point to one Event object:
// a million real events would take hundreds of megabytes for nothing, since
// the count is checked before any event is read.
class AliasedEvents {
 public:
  explicit AliasedEvents(int count) {
    event_.set_id("e");
    event_.set_type(v1::EVENT_TYPE_EMAIL_OPEN);
    event_.mutable_occurred_at()->set_seconds(1700000000);
    lead_.set_id("many");
    auto* events = lead_.mutable_events();
    events->Reserve(count);
    for (int i = 0; i < count; ++i) events->UnsafeArenaAddAllocated(&event_);
  }
  ~AliasedEvents() {
    // Hand the pointers back so that the lead does not delete event_.
    auto* events = lead_.mutable_events();
    while (!events->empty()) events->UnsafeArenaReleaseLast();
  }
  const v1::Lead& lead() const { return lead_; }

 private:
  v1::Event event_;
  v1::Lead lead_;
};

TEST(LeadValidationTest, AMillionEventsAreAccepted) {
  AliasedEvents many(kMaxEventsPerLead);
  EXPECT_TRUE(ValidateLead(many.lead()).ok());
}

TEST(LeadValidationTest, OneMillionAndOneEventsAreRefused) {
  AliasedEvents many(kMaxEventsPerLead + 1);
  EXPECT_TRUE(
      RefusedAt(many.lead(), "events",
                "has 1000001 events; at most 1000000 are accepted per lead"));
}

}  // namespace
}  // namespace smarketing
