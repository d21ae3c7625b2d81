// Routing: account matching first, then rules, then each team's strategy,
// then the fallback team; fairness of round-robin over long runs and
// membership changes as exact counts, weighted splits, capacity limits,
// availability, and every validation problem with its path.
#include "core/journey/routing.h"

#include <map>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace smarketing {
namespace {

absl::Time T(const std::string& text) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &error))
      << text << ": " << error;
  return t;
}

// A Tuesday, 10:00 UTC: inside every calendar below.
const absl::Time kNow = absl::FromUnixSeconds(1772532000);

template <typename Message>
Message Parse(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

// A compiled Routing with the slot table its conditions read.
struct Compiled {
  SlotTable attributes;
  SlotTable properties;
  Routing routing;
};

const absl::flat_hash_set<std::string> kPersonas = {"cmo", "it_director"};

std::unique_ptr<Compiled> Compile(
    const std::string& text,
    std::shared_ptr<const BusinessCalendar> calendar = nullptr) {
  auto compiled = std::make_unique<Compiled>();
  ProblemList problems;
  EXPECT_TRUE(compiled->routing.Compile(
      Parse<v1::Routing>(text), "routing", kPersonas, std::move(calendar),
      &compiled->attributes, &compiled->properties, &problems))
      << problems.problems().DebugString();
  return compiled;
}

v1::RoutingDecision Route(const Compiled& compiled, const v1::Lead& lead,
                          v1::RoutingState* state, absl::Time now = kNow,
                          absl::string_view persona = "cmo") {
  std::vector<const google::protobuf::Value*> attributes;
  compiled.attributes.Resolve(lead.attributes(), &attributes);
  EvalContext context;
  context.lead = &lead;
  context.attributes = &attributes;
  return compiled.routing.Route(context, persona, now, state);
}

v1::Lead Lead(const std::string& text = "") {
  return Parse<v1::Lead>(absl::StrCat("id: \"lead\" ", text));
}

std::string Member(const std::string& id, const std::string& extra = "",
                   bool available = true) {
  return absl::StrCat("members { id: \"", id,
                      "\" role: MEMBER_ROLE_SALES available: ",
                      available ? "true " : "false ", extra, " }\n");
}

// Out of office around kNow.
constexpr char kOnLeave[] =
    "out_of_office { start { seconds: 1772400000 } end { seconds: "
    "1772700000 } }";

std::string RoundRobinTeam(const std::vector<std::string>& members,
                           const std::string& id = "emea") {
  std::string text = absl::StrCat(
      "teams { id: \"", id, "\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN\n",
      "members { id: \"", id, "-marketer\" role: MEMBER_ROLE_MARKETING ",
      "available: true }\n");
  for (const std::string& m : members) text += Member(m);
  return text + "}\n";
}

std::map<std::string, int> Counts(const Compiled& compiled, int leads,
                                  v1::RoutingState* state,
                                  absl::Time now = kNow) {
  std::map<std::string, int> counts;
  for (int i = 0; i < leads; ++i) {
    ++counts[Route(compiled, Lead(), state, now).owner_id()];
  }
  return counts;
}

using Counted = std::map<std::string, int>;

// Assignments of each member of `team` so far, from the state.
Counted Assigned(const v1::RoutingState& state, const std::string& team) {
  Counted counts;
  for (const auto& [id, rotation] : state.teams().at(team).members()) {
    if (rotation.assigned() > 0) counts[id] = rotation.assigned();
  }
  return counts;
}

TEST(RoundRobinTest, InTurnAndEvenOverALongRun) {
  const auto c = Compile(RoundRobinTeam({"ana", "bo", "cy"}) +
                         "fallback_team_id: \"emea\"");
  v1::RoutingState state;
  std::string order;
  for (int i = 0; i < 7; ++i) {
    order += Route(*c, Lead(), &state).owner_id() + " ";
  }
  EXPECT_EQ(order, "ana bo cy ana bo cy ana ");
  Counts(*c, 3000 - 7, &state);
  EXPECT_EQ(Assigned(state, "emea"),
            (Counted{{"ana", 1000}, {"bo", 1000}, {"cy", 1000}}));
  EXPECT_EQ(state.teams().at("emea").assignments(), 3000);
  EXPECT_EQ(state.open_leads().at("bo"), 1000);
}

TEST(RoundRobinTest, StaysEvenWhenMembersLeaveAndComeBack) {
  const std::string tail = "fallback_team_id: \"emea\"";
  const auto all = Compile(RoundRobinTeam({"ana", "bo", "cy"}) + tail);
  v1::RoutingState state;
  EXPECT_EQ(Counts(*all, 300, &state),
            (Counted{{"ana", 100}, {"bo", 100}, {"cy", 100}}));

  // bo on leave: the others share evenly.
  const auto bo_away = Compile(
      "teams { id: \"emea\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN " +
      Member("ana") + Member("bo", kOnLeave) + Member("cy") + "}" + tail);
  EXPECT_EQ(Counts(*bo_away, 200, &state),
            (Counted{{"ana", 100}, {"cy", 100}}));

  // bo is back: even again at once, with no catching up.
  EXPECT_EQ(Counts(*all, 300, &state),
            (Counted{{"ana", 100}, {"bo", 100}, {"cy", 100}}));

  // cy leaves the Playbook, then comes back with a newcomer.
  const auto without_cy = Compile(RoundRobinTeam({"ana", "bo"}) + tail);
  EXPECT_EQ(Counts(*without_cy, 100, &state),
            (Counted{{"ana", 50}, {"bo", 50}}));
  const auto with_dee =
      Compile(RoundRobinTeam({"ana", "bo", "cy", "dee"}) + tail);
  EXPECT_EQ(Route(*with_dee, Lead(), &state).owner_id(), "dee");
  EXPECT_EQ(Route(*with_dee, Lead(), &state).owner_id(), "cy");
  EXPECT_EQ(Counts(*with_dee, 398, &state),
            (Counted{{"ana", 100}, {"bo", 100}, {"cy", 99}, {"dee", 99}}));
  EXPECT_EQ(Assigned(state, "emea"),
            (Counted{{"ana", 450}, {"bo", 350}, {"cy", 400}, {"dee", 100}}));
}

std::string WeightedTeam(const std::string& members) {
  return "teams { id: \"w\" strategy: ASSIGNMENT_STRATEGY_WEIGHTED " + members +
         "}\nteams { id: \"queue\" strategy: "
         "ASSIGNMENT_STRATEGY_ROUND_ROBIN }\n"
         "fallback_team_id: \"w\"";
}

TEST(WeightedTest, ExactSharesAndSmoothAtEveryStep) {
  const auto c = Compile(WeightedTeam(Member("ana", "weight: 1") +
                                      Member("bo", "weight: 2") +
                                      Member("cy", "weight: 3")));
  v1::RoutingState state;
  // Tolerance: after every lead, each member is within one lead of their
  // exact share (smooth weighted round-robin never bunches).
  Counted counts;
  const std::map<std::string, double> share = {
      {"ana", 1.0 / 6}, {"bo", 2.0 / 6}, {"cy", 3.0 / 6}};
  for (int n = 1; n <= 6000; ++n) {
    ++counts[Route(*c, Lead(), &state).owner_id()];
    for (const auto& [id, s] : share) {
      ASSERT_LE(std::abs(counts[id] - n * s), 1.0) << id << " after " << n;
    }
  }
  EXPECT_EQ(counts, (Counted{{"ana", 1000}, {"bo", 2000}, {"cy", 3000}}));
}

TEST(WeightedTest, FractionalWeightsWithinOneLead) {
  const auto c = Compile(WeightedTeam(Member("ana", "weight: 0.7") +
                                      Member("bo", "weight: 0.2") +
                                      Member("cy", "weight: 0.1")));
  v1::RoutingState state;
  const Counted counts = Counts(*c, 10007, &state);
  EXPECT_NEAR(counts.at("ana"), 10007 * 0.7, 1.0);
  EXPECT_NEAR(counts.at("bo"), 10007 * 0.2, 1.0);
  EXPECT_NEAR(counts.at("cy"), 10007 * 0.1, 1.0);
}

TEST(WeightedTest, ZeroWeightsAndAbsences) {
  // A weight of 0 takes no leads; an absent member's share goes to the
  // others in proportion.
  const auto c = Compile(
      WeightedTeam(Member("ana", "weight: 1") + Member("bo", "weight: 3") +
                   Member("cy", absl::StrCat("weight: 4 ", kOnLeave)) +
                   Member("dee", "weight: 0")));
  v1::RoutingState state;
  EXPECT_EQ(Counts(*c, 400, &state), (Counted{{"ana", 100}, {"bo", 300}}));

  // Everyone available has weight 0: the team cannot take the lead and it
  // waits in the fallback team's queue.
  const auto zero = Compile(
      "teams { id: \"w\" strategy: ASSIGNMENT_STRATEGY_WEIGHTED " +
      Member("ana", "weight: 0") + Member("bo", "weight: 5", false) +
      "}\nteams { id: \"queue\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN }\n"
      "rules { id: \"all\" when { field: \"id\" exists: true } team_id: "
      "\"w\" }\nfallback_team_id: \"queue\"");
  const v1::RoutingDecision d = Route(*zero, Lead(), &state);
  EXPECT_EQ(d.team_id(), "queue");
  EXPECT_EQ(d.owner_id(), "");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_FALLBACK);
  EXPECT_EQ(d.explanation(),
            "Rule all matched: team w. Nobody in team w can take the lead: "
            "ana (weight 0), bo (unavailable). Fallback team queue. Team "
            "queue has no sales member. The lead waits in team queue's "
            "queue.");
}

std::string CapacityTeams(const std::string& members) {
  return "teams { id: \"cap\" strategy: ASSIGNMENT_STRATEGY_CAPACITY " +
         members +
         "}\nteams { id: \"queue\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN "
         "members { id: \"m\" role: MEMBER_ROLE_MARKETING } }\n"
         "rules { id: \"all\" when { field: \"id\" exists: true } team_id: "
         "\"cap\" }\nfallback_team_id: \"queue\"";
}

TEST(CapacityTest, MostRoomFirstAndNeverBeyond) {
  const auto c = Compile(CapacityTeams(Member("ana", "max_open_leads: 3") +
                                       Member("bo", "max_open_leads: 1")));
  v1::RoutingState state;
  // Rooms 3/1 -> ana; 2/1 -> ana; 1/1 tie -> bo (assigned longest ago);
  // 1/0 -> ana; then both are full.
  std::string order;
  for (int i = 0; i < 5; ++i) {
    order += Route(*c, Lead(), &state).owner_id() + "|";
  }
  EXPECT_EQ(order, "ana|ana|bo|ana||");
  const v1::RoutingDecision full = Route(*c, Lead(), &state);
  EXPECT_EQ(full.team_id(), "queue");
  EXPECT_EQ(full.reason(), v1::ROUTING_REASON_FALLBACK);
  EXPECT_EQ(full.explanation(),
            "Rule all matched: team cap. Nobody in team cap can take the "
            "lead: ana (at capacity), bo (at capacity). Fallback team queue. "
            "Team queue has no sales member. The lead waits in team queue's "
            "queue.");
  EXPECT_EQ(state.open_leads().at("ana"), 3);
  EXPECT_EQ(state.open_leads().at("bo"), 1);

  // bo closes a lead: the next one is theirs.
  ASSERT_TRUE(RecordLeadClosed("bo", &state).ok());
  const v1::RoutingDecision next = Route(*c, Lead(), &state);
  EXPECT_EQ(next.owner_id(), "bo");
  EXPECT_EQ(next.reason(), v1::ROUTING_REASON_RULE);
  EXPECT_EQ(next.strategy(), v1::ASSIGNMENT_STRATEGY_CAPACITY);
  EXPECT_EQ(next.explanation(),
            "Rule all matched: team cap. Capacity: bo has the most room (0 of "
            "1 open leads); skipped ana (at capacity).");
}

TEST(CapacityTest, NeverExceededOverALongRun) {
  const std::map<std::string, int> limits = {{"ana", 3}, {"bo", 1}, {"cy", 7}};
  const auto c = Compile(CapacityTeams(Member("ana", "max_open_leads: 3") +
                                       Member("bo", "max_open_leads: 1") +
                                       Member("cy", "max_open_leads: 7")));
  v1::RoutingState state;
  std::mt19937 random(7);
  std::vector<std::string> open;  // one entry per open lead
  int queued = 0;
  for (int step = 0; step < 20000; ++step) {
    if (random() % 2 == 0 || open.empty()) {
      const v1::RoutingDecision d = Route(*c, Lead(), &state);
      if (d.owner_id().empty()) {
        ++queued;
        ASSERT_EQ(open.size(), 11u);  // only when everyone is full
      } else {
        open.push_back(d.owner_id());
      }
    } else {
      const size_t i = random() % open.size();
      ASSERT_TRUE(RecordLeadClosed(open[i], &state).ok());
      open.erase(open.begin() + i);
    }
    for (const auto& [id, limit] : limits) {
      const auto it = state.open_leads().find(id);
      const int held = it == state.open_leads().end() ? 0 : it->second;
      ASSERT_LE(held, limit) << id;
      ASSERT_EQ(held, std::count(open.begin(), open.end(), id)) << id;
    }
  }
  EXPECT_GT(queued, 0);
}

// Two regional teams; accounts go to their owner first.
std::string AccountRouting(bool match, const std::string& emea_members) {
  return absl::StrCat(
      "match_account_owner: ", match ? "true" : "false", "\n",
      "teams { id: \"emea\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN ",
      emea_members, "}\n",
      "teams { id: \"amer\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN ",
      Member("cy"), Member("dee"), "}\n",
      "rules { id: \"r-amer\" when { field: \"company.region\" equals { "
      "string_value: \"AMER\" } } team_id: \"amer\" }\n",
      "rules { id: \"r-emea\" when { field: \"company.region\" equals { "
      "string_value: \"EMEA\" } } team_id: \"emea\" }\n",
      "fallback_team_id: \"emea\"");
}

TEST(AccountMatchingTest, TakesPrecedenceOverRules) {
  const auto c = Compile(AccountRouting(true, Member("ana") + Member("bo")));
  v1::RoutingState state;
  v1::RoutingDecision d = Route(
      *c, Lead("company { region: \"EMEA\" domain: \"acme.com\" }"), &state);
  EXPECT_EQ(d.owner_id(), "ana");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_RULE);
  EXPECT_EQ(state.account_owners().at("acme.com").owner_id(), "ana");
  EXPECT_EQ(state.account_owners().at("acme.com").team_id(), "emea");

  // Another contact at the same company, whom the rules would send to
  // AMER, goes to the account's owner.
  d = Route(*c,
            Lead("company { region: \"AMER\" domain: \" WWW.Acme.COM. \" }"),
            &state);
  EXPECT_EQ(d.team_id(), "emea");
  EXPECT_EQ(d.owner_id(), "ana");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_ACCOUNT_OWNER);
  EXPECT_EQ(d.rule_id(), "");
  EXPECT_EQ(d.strategy(), v1::ASSIGNMENT_STRATEGY_UNSPECIFIED);
  EXPECT_EQ(d.explanation(), "Account acme.com belongs to ana (team emea).");
  EXPECT_EQ(state.open_leads().at("ana"), 2);
  // The account lead does not consume a turn of the rotation: bo is next.
  EXPECT_EQ(Route(*c, Lead("company { region: \"EMEA\" }"), &state).owner_id(),
            "bo");
}

TEST(AccountMatchingTest, UnavailableOrGoneOwnerFallsBackToRules) {
  v1::RoutingState state;
  (*state.mutable_account_owners())["acme.com"] =
      Parse<v1::AccountOwner>("team_id: \"emea\" owner_id: \"ana\"");
  const v1::Lead lead =
      Lead("company { region: \"AMER\" domain: \"acme.com\" }");

  const auto on_leave =
      Compile(AccountRouting(true, Member("ana", kOnLeave) + Member("bo")));
  v1::RoutingDecision d = Route(*on_leave, lead, &state);
  EXPECT_EQ(d.owner_id(), "cy");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_RULE);
  EXPECT_EQ(d.explanation(),
            "The owner of account acme.com, ana (team emea), is out of "
            "office. Rule r-amer matched: team amer. Round-robin: cy is the "
            "available member assigned longest ago.");
  // The account keeps its owner.
  EXPECT_EQ(state.account_owners().at("acme.com").owner_id(), "ana");

  const auto gone = Compile(AccountRouting(true, Member("bo")));
  d = Route(*gone, lead, &state);
  EXPECT_EQ(d.owner_id(), "dee");
  EXPECT_EQ(d.explanation().substr(0, 77),
            "The owner of account acme.com, ana, is no longer a sales member "
            "of team emea.");

  // Matching switched off: rules only.
  const auto off = Compile(AccountRouting(false, Member("ana") + Member("bo")));
  EXPECT_EQ(Route(*off, lead, &state).owner_id(), "cy");
}

TEST(AccountMatchingTest, NoDomainAndCapacity) {
  const auto c = Compile(AccountRouting(true, Member("ana") + Member("bo")));
  v1::RoutingState state;
  Route(*c, Lead("company { region: \"EMEA\" }"), &state);
  Route(*c, Lead("company { region: \"EMEA\" domain: \"  \" }"), &state);
  EXPECT_TRUE(state.account_owners().empty());

  // An account owner at capacity does not get the account's next lead.
  const auto cap = Compile("match_account_owner: true\n" +
                           CapacityTeams(Member("ana", "max_open_leads: 1") +
                                         Member("bo", "max_open_leads: 5")));
  v1::RoutingState cap_state;
  (*cap_state.mutable_account_owners())["acme.com"] =
      Parse<v1::AccountOwner>("team_id: \"cap\" owner_id: \"ana\"");
  const v1::Lead lead = Lead("company { domain: \"acme.com\" }");
  EXPECT_EQ(Route(*cap, lead, &cap_state).reason(),
            v1::ROUTING_REASON_ACCOUNT_OWNER);
  const v1::RoutingDecision d = Route(*cap, lead, &cap_state);
  EXPECT_EQ(d.owner_id(), "bo");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_RULE);
  EXPECT_EQ(cap_state.open_leads().at("ana"), 1);
}

TEST(RulesTest, FirstMatchPersonasAndFallback) {
  const auto c = Compile(
      "teams { id: \"enterprise\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN " +
      Member("eve") + "}\n" + RoundRobinTeam({"ana"}) +
      "teams { id: \"inbound\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN " +
      Member("ivy") +
      "}\n"
      "rules { id: \"r-cmo\" description: \"CMOs buying the suite\" "
      "persona_ids: \"cmo\" when { field: \"product\" equals { "
      "string_value: \"suite\" } } team_id: \"enterprise\" }\n"
      "rules { id: \"r-suite\" when { field: \"product\" equals { "
      "string_value: \"suite\" } } team_id: \"emea\" }\n"
      "fallback_team_id: \"inbound\"");
  v1::RoutingState state;
  const v1::Lead suite = Lead("product: \"Suite\"");
  v1::RoutingDecision d = Route(*c, suite, &state, kNow, "cmo");
  EXPECT_EQ(d.team_id(), "enterprise");
  EXPECT_EQ(d.owner_id(), "eve");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_RULE);
  EXPECT_EQ(d.rule_id(), "r-cmo");
  EXPECT_EQ(d.strategy(), v1::ASSIGNMENT_STRATEGY_ROUND_ROBIN);
  EXPECT_EQ(d.explanation(),
            "Rule r-cmo (CMOs buying the suite) matched: team enterprise. "
            "Round-robin: eve is the available member assigned longest ago.");

  d = Route(*c, suite, &state, kNow, "it_director");
  EXPECT_EQ(d.rule_id(), "r-suite");
  EXPECT_EQ(d.owner_id(), "ana");

  d = Route(*c, Lead("product: \"other\""), &state);
  EXPECT_EQ(d.team_id(), "inbound");
  EXPECT_EQ(d.owner_id(), "ivy");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_FALLBACK);
  EXPECT_EQ(d.rule_id(), "");
  EXPECT_EQ(d.explanation(),
            "No rule matched. Fallback team inbound. Round-robin: ivy is the "
            "available member assigned longest ago.");
}

TEST(AvailabilityTest, UnavailableOutOfOfficeAndWorkingHours) {
  // emea works Monday to Friday 09:00-17:00 UTC; the fallback team has no
  // calendar of its own and uses the default one, around the clock.
  auto always = std::make_shared<BusinessCalendar>();
  ProblemList problems;
  v1::BusinessCalendar proto;
  proto.set_time_zone("UTC");
  for (int day = 1; day <= 7; ++day) {
    v1::WorkingHours* hours = proto.add_working_hours();
    hours->set_weekday(static_cast<v1::Weekday>(day));
    hours->set_start("00:00");
    hours->set_end("24:00");
  }
  ASSERT_TRUE(always->Compile(proto, "sla.default_calendar", &problems));
  const auto c = Compile(
      "teams { id: \"emea\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN " +
          Member("ana", "", false) + Member("bo", kOnLeave) + Member("cy") +
          "calendar { time_zone: \"UTC\" "
          "working_hours { weekday: WEEKDAY_TUESDAY start: \"09:00\" end: "
          "\"17:00\" } "
          "working_hours { weekday: WEEKDAY_SATURDAY start: \"09:00\" end: "
          "\"12:00\" } } }\n"
          "teams { id: \"night\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN " +
          Member("nat") +
          "}\n"
          "rules { id: \"all\" when { field: \"id\" exists: true } team_id: "
          "\"emea\" }\nfallback_team_id: \"night\"",
      always);
  v1::RoutingState state;
  v1::RoutingDecision d = Route(*c, Lead(), &state);
  EXPECT_EQ(d.owner_id(), "cy");
  EXPECT_EQ(d.explanation(),
            "Rule all matched: team emea. Round-robin: cy is the available "
            "member assigned longest ago; skipped ana (unavailable), bo (out "
            "of office).");

  // Tuesday evening: emea is closed, the night team takes it.
  d = Route(*c, Lead(), &state, T("2026-03-03T20:00:00Z"));
  EXPECT_EQ(d.team_id(), "night");
  EXPECT_EQ(d.owner_id(), "nat");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_FALLBACK);
  EXPECT_EQ(d.explanation(),
            "Rule all matched: team emea. Nobody in team emea can take the "
            "lead: ana (unavailable), bo (out of office), cy (outside working "
            "hours). Fallback team night. Round-robin: nat is the available "
            "member assigned longest ago.");
  EXPECT_EQ(c->routing.TeamCalendar("night"), always.get());
  EXPECT_NE(c->routing.TeamCalendar("emea"), nullptr);
  EXPECT_NE(c->routing.TeamCalendar("emea"), always.get());
  EXPECT_EQ(c->routing.TeamCalendar("nobody"), nullptr);
}

TEST(AvailabilityTest, AnyoneCanTakeLeadsOnlyWhenSomeoneIsFree) {
  const auto c = Compile(
      "teams { id: \"emea\" strategy: ASSIGNMENT_STRATEGY_CAPACITY " +
      Member("ana", "max_open_leads: 1") +
      Member("bo", "max_open_leads: 1", false) +
      "calendar { time_zone: \"UTC\" working_hours { weekday: "
      "WEEKDAY_TUESDAY start: \"09:00\" end: \"17:00\" } } }\n"
      "teams { id: \"queue\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN "
      "members { id: \"m\" role: MEMBER_ROLE_MARKETING } }\n"
      "rules { id: \"all\" when { field: \"id\" exists: true } team_id: "
      "\"emea\" }\nfallback_team_id: \"queue\"");
  v1::RoutingState state;
  EXPECT_TRUE(c->routing.AnyoneCanTakeLeads(kNow, state));
  // Tuesday evening: emea is closed and the queue team has no sales member.
  EXPECT_FALSE(c->routing.AnyoneCanTakeLeads(T("2026-03-03T20:00:00Z"), state));
  // ana takes a lead and is full; bo is unavailable.
  EXPECT_EQ(Route(*c, Lead(), &state).owner_id(), "ana");
  EXPECT_FALSE(c->routing.AnyoneCanTakeLeads(kNow, state));
  ASSERT_TRUE(RecordLeadClosed("ana", &state).ok());
  EXPECT_TRUE(c->routing.AnyoneCanTakeLeads(kNow, state));
}

TEST(AvailabilityTest, EveryoneUnavailableWaitsInTheQueue) {
  const auto c = Compile(
      "teams { id: \"emea\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN " +
      Member("ana", "", false) +
      "}\nteams { id: \"inbound\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN " +
      Member("ivy", kOnLeave) +
      "}\nrules { id: \"all\" when { field: \"id\" exists: true } team_id: "
      "\"emea\" }\nfallback_team_id: \"inbound\"");
  v1::RoutingState state;
  const v1::RoutingDecision d = Route(*c, Lead(), &state);
  EXPECT_EQ(d.team_id(), "inbound");
  EXPECT_EQ(d.owner_id(), "");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_FALLBACK);
  EXPECT_EQ(d.explanation(),
            "Rule all matched: team emea. Nobody in team emea can take the "
            "lead: ana (unavailable). Fallback team inbound. Nobody in team "
            "inbound can take the lead: ivy (out of office). The lead waits "
            "in team inbound's queue.");
  EXPECT_TRUE(state.open_leads().empty());
}

TEST(AvailabilityTest, RuleTeamIsTheFallbackTeam) {
  const auto c = Compile(
      "teams { id: \"emea\" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN }\n"
      "rules { id: \"all\" when { field: \"id\" exists: true } team_id: "
      "\"emea\" }\nfallback_team_id: \"emea\"");
  v1::RoutingState state;
  const v1::RoutingDecision d = Route(*c, Lead(), &state);
  EXPECT_EQ(d.team_id(), "emea");
  EXPECT_EQ(d.owner_id(), "");
  EXPECT_EQ(d.explanation(),
            "Rule all matched: team emea. Team emea has no sales member. "
            "Fallback team emea. The lead waits in team emea's queue.");
}

TEST(AvailabilityTest, NoRulesNoFallback) {
  const auto c =
      Compile("match_account_owner: true\n" + RoundRobinTeam({"ana"}));
  v1::RoutingState state;
  const v1::RoutingDecision d =
      Route(*c, Lead("company { domain: \"acme.com\" }"), &state);
  EXPECT_EQ(d.team_id(), "");
  EXPECT_EQ(d.owner_id(), "");
  EXPECT_EQ(d.reason(), v1::ROUTING_REASON_FALLBACK);
  EXPECT_EQ(d.explanation(),
            "No rule matched. The Playbook names no fallback team: the lead "
            "is unassigned.");
  EXPECT_TRUE(state.account_owners().empty());
}

TEST(ReassignTest, AnotherMemberTakesTheLead) {
  const auto c = Compile(RoundRobinTeam({"ana", "bo", "cy"}) +
                         "fallback_team_id: \"emea\"");
  v1::RoutingState state;
  const v1::RoutingDecision first = Route(*c, Lead(), &state);
  ASSERT_EQ(first.owner_id(), "ana");
  absl::StatusOr<v1::RoutingDecision> moved =
      c->routing.Reassign(first, kNow, &state);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->owner_id(), "bo");
  EXPECT_EQ(moved->team_id(), "emea");
  EXPECT_EQ(moved->reason(), v1::ROUTING_REASON_FALLBACK);
  EXPECT_EQ(moved->explanation(),
            "Reassigned from ana. Round-robin: bo is the available member "
            "assigned longest ago.");
  EXPECT_FALSE(state.open_leads().contains("ana"));
  EXPECT_EQ(state.open_leads().at("bo"), 1);

  const auto solo =
      Compile(RoundRobinTeam({"bo"}) + "fallback_team_id: \"emea\"");
  moved = solo->routing.Reassign(*moved, kNow, &state);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->owner_id(), "bo");
  EXPECT_EQ(moved->explanation(),
            "Nobody in team emea can take the lead. It stays with bo.");

  v1::RoutingDecision unknown;
  unknown.set_team_id("gone");
  EXPECT_EQ(c->routing.Reassign(unknown, kNow, &state).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RoutingStateTest, RecordLeadClosed) {
  v1::RoutingState state;
  (*state.mutable_open_leads())["ana"] = 2;
  EXPECT_TRUE(RecordLeadClosed("ana", &state).ok());
  EXPECT_EQ(state.open_leads().at("ana"), 1);
  EXPECT_TRUE(RecordLeadClosed("ana", &state).ok());
  EXPECT_FALSE(state.open_leads().contains("ana"));
  const absl::Status status = RecordLeadClosed("ana", &state);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "no open lead is recorded for owner \"ana\"");
}

TEST(RoutingStateTest, AccountKey) {
  EXPECT_EQ(AccountKey(" WWW.Acme.COM. "), "acme.com");
  EXPECT_EQ(AccountKey("shop.acme.co.uk"), "shop.acme.co.uk");
  EXPECT_EQ(AccountKey(""), "");
  EXPECT_EQ(AccountKey("   "), "");
}

std::vector<std::pair<std::string, std::string>> ProblemsOf(
    const std::string& text) {
  Compiled compiled;
  ProblemList problems;
  EXPECT_FALSE(compiled.routing.Compile(
      Parse<v1::Routing>(text), "routing", kPersonas, nullptr,
      &compiled.attributes, &compiled.properties, &problems));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : problems.problems().problems()) {
    out.emplace_back(p.path(), p.message());
  }
  return out;
}

using Problems = std::vector<std::pair<std::string, std::string>>;

TEST(RoutingValidationTest, Teams) {
  const Problems problems = ProblemsOf(R"pb(
    teams {}
    teams {
      id: "a"
      strategy: ASSIGNMENT_STRATEGY_CAPACITY
      members { id: "x" role: MEMBER_ROLE_SALES weight: -1 }
      members { id: "x" }
      members {
        id: "y"
        role: MEMBER_ROLE_MARKETING
        max_open_leads: -2
        out_of_office { start { seconds: 10 } }
        out_of_office {
          start { seconds: 20 }
          end { seconds: 10 }
        }
        out_of_office {
          start { seconds: 1 nanos: -1 }
          end { seconds: 5 }
        }
      }
      members { id: "z" role: 7 weight: inf max_open_leads: 3 }
      calendar {
        time_zone: "Nowhere/City"
        working_hours { weekday: WEEKDAY_MONDAY start: "09:00" end: "17:00" }
      }
    }
    teams { id: "a" strategy: 9 }
  )pb");
  const Problems expected = {
      {"routing.teams[0].id", "an id is required"},
      {"routing.teams[0].strategy",
       "required: round_robin, weighted or capacity"},
      {"routing.teams[1].members[0].weight", "must be a finite number >= 0"},
      {"routing.teams[1].members[0].max_open_leads",
       "must be > 0 under the capacity strategy"},
      {"routing.teams[1].members[1].id",
       "duplicate id \"x\", already used at routing.teams[1].members[0].id"},
      {"routing.teams[1].members[1].role", "required: sales or marketing"},
      {"routing.teams[1].members[2].max_open_leads", "must not be negative"},
      {"routing.teams[1].members[2].out_of_office[0].end", "required"},
      {"routing.teams[1].members[2].out_of_office[1].end",
       "must be after start"},
      {"routing.teams[1].members[2].out_of_office[2].start",
       "not a valid timestamp"},
      {"routing.teams[1].members[3].role", "unknown role 7"},
      {"routing.teams[1].members[3].weight", "must be a finite number >= 0"},
      {"routing.teams[1].calendar.time_zone",
       "unknown IANA time zone \"Nowhere/City\""},
      {"routing.teams[2].id",
       "duplicate id \"a\", already used at routing.teams[1].id"},
      {"routing.teams[2].strategy", "unknown strategy 9"},
  };
  EXPECT_EQ(problems, expected);
}

TEST(RoutingValidationTest, RulesAndFallback) {
  const Problems problems = ProblemsOf(R"pb(
    teams { id: "emea" strategy: ASSIGNMENT_STRATEGY_ROUND_ROBIN }
    teams { id: "amer" strategy: ASSIGNMENT_STRATEGY_WEIGHTED }
    rules {}
    rules {
      id: "r"
      when {
        field: "company.nope"
        equals { string_value: "x" }
      }
      team_id: "apac"
      persona_ids: "cmo"
      persona_ids: "ghost"
    }
    rules {
      id: "r"
      when {
        field: "company.region"
        equals { string_value: "EMEA" }
      }
      team_id: "emea"
    }
  )pb");
  ASSERT_EQ(problems.size(), 8u);
  EXPECT_EQ(problems[0], (std::pair<std::string, std::string>(
                             "routing.rules[0].id", "an id is required")));
  EXPECT_EQ(problems[1],
            (std::pair<std::string, std::string>("routing.rules[0].when",
                                                 "a condition is required")));
  EXPECT_EQ(problems[2],
            (std::pair<std::string, std::string>(
                "routing.rules[0].team_id", "required: the team it sends to")));
  // The condition reports its own problem at its path.
  EXPECT_EQ(problems[3].first, "routing.rules[1].when.field");
  EXPECT_EQ(problems[4], (std::pair<std::string, std::string>(
                             "routing.rules[1].team_id",
                             "unknown team \"apac\"; teams: emea, amer")));
  EXPECT_EQ(problems[5], (std::pair<std::string, std::string>(
                             "routing.rules[1].persona_ids[1]",
                             "unknown persona \"ghost\"")));
  EXPECT_EQ(problems[6], (std::pair<std::string, std::string>(
                             "routing.rules[2].id",
                             "duplicate id \"r\", already used at "
                             "routing.rules[1].id")));
  EXPECT_EQ(problems[7],
            (std::pair<std::string, std::string>(
                "routing.fallback_team_id",
                "required when rules exist: it receives what no rule "
                "matched and what a team could not take")));

  EXPECT_EQ(ProblemsOf("fallback_team_id: \"apac\""),
            (Problems{{"routing.fallback_team_id",
                       "unknown team \"apac\"; there are no teams"}}));
}

}  // namespace
}  // namespace smarketing
