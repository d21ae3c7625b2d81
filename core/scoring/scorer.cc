#include "core/scoring/scorer.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/scoring/lead_validation.h"

namespace smarketing {
namespace {

std::string Signed(double points) { return absl::StrFormat("%+.1f", points); }

const std::string& Described(const std::string& description,
                             const std::string& id) {
  return description.empty() ? id : description;
}

absl::string_view ReasonName(v1::DisqualificationReason reason) {
  switch (reason) {
    case v1::DISQUALIFICATION_REASON_COMPANY_SIZE:
      return "company size";
    case v1::DISQUALIFICATION_REASON_INDUSTRY:
      return "industry";
    case v1::DISQUALIFICATION_REASON_GEOGRAPHY:
      return "geography";
    case v1::DISQUALIFICATION_REASON_COMPETITOR:
      return "competitor";
    case v1::DISQUALIFICATION_REASON_BAD_DATA:
      return "bad data";
    case v1::DISQUALIFICATION_REASON_OPTED_OUT:
      return "opted out";
    default:
      return "other";
  }
}

absl::string_view PriorityName(v1::Priority priority) {
  switch (priority) {
    case v1::PRIORITY_LOW:
      return "low";
    case v1::PRIORITY_MEDIUM:
      return "medium";
    case v1::PRIORITY_HIGH:
      return "high";
    case v1::PRIORITY_URGENT:
      return "urgent";
    default:
      return "none";
  }
}

// The rule a contribution names, with a sentence for people when
// `sentences`.
void DescribeHit(const v1::Playbook& p, const RuleContribution& c, double fit,
                 bool opt_out_disqualifies, bool sentences, v1::RuleHit* hit) {
  DescribeRuleHit(p, c, hit);
  if (!sentences) return;
  switch (c.kind) {
    case v1::RULE_KIND_PERSONA_CRITERION: {
      const v1::Persona& persona = p.personas(c.persona);
      const v1::PersonaCriterion& criterion = persona.criteria(c.rule);
      hit->set_sentence(
          absl::StrCat(Described(criterion.description(), criterion.id()),
                       " (persona ", Described(persona.name(), persona.id()),
                       "): ", Signed(c.points), " fit"));
      break;
    }
    case v1::RULE_KIND_FIT: {
      const v1::FitRule& rule = p.fit_rules(c.rule);
      hit->set_sentence(absl::StrCat(Described(rule.description(), rule.id()),
                                     ": ", Signed(c.points), " fit"));
      break;
    }
    case v1::RULE_KIND_ENGAGEMENT: {
      const v1::EngagementRule& rule = p.engagement().rules(c.rule);
      hit->set_sentence(absl::StrCat(
          Described(rule.description(), rule.id()), ": ", c.event_count,
          c.event_count == 1 ? " event, " : " events, ", Signed(c.raw_points),
          " points, ", Signed(c.points),
          " engagement after time decay and caps"));
      break;
    }
    case v1::RULE_KIND_DISQUALIFICATION: {
      const v1::DisqualificationRule& rule = p.disqualification_rules(c.rule);
      hit->set_sentence(
          absl::StrCat("Disqualified (", ReasonName(rule.reason()),
                       "): ", Described(rule.description(), rule.id()),
                       "; never routed, never nurtured"));
      break;
    }
    case v1::RULE_KIND_OPT_OUT:
      hit->set_sentence(
          opt_out_disqualifies
              ? "The person asked not to be contacted: never solicited "
                "again, whatever the score"
              : "The person opted out: nurtured through other channels, "
                "never MQL, whatever the score");
      break;
    case v1::RULE_KIND_HAND_RAISER: {
      const v1::HandRaiserRule& rule = p.hand_raiser_rules(c.rule);
      hit->set_sentence(absl::StrCat(
          Described(rule.description(), rule.id()),
          ": fast-tracked to MQL (fit ", absl::StrFormat("%.1f", fit),
          " >= ", absl::StrFormat("%.1f", rule.min_fit()), ")"));
      break;
    }
    case v1::RULE_KIND_PRIORITY: {
      const v1::PriorityRule& rule = p.priority().rules(c.rule);
      hit->set_sentence(absl::StrCat(Described(rule.description(), rule.id()),
                                     ": priority ",
                                     PriorityName(rule.priority())));
      break;
    }
    default:
      break;
  }
}

const std::string& NoId() {
  static const std::string* const kNone = new std::string();
  return *kNone;
}

}  // namespace

const std::string& RuleIdOf(const v1::Playbook& p, const RuleContribution& c) {
  static const std::string* const kOptOut =
      new std::string("consent.opted_out");
  switch (c.kind) {
    case v1::RULE_KIND_PERSONA_CRITERION:
      return p.personas(c.persona).criteria(c.rule).id();
    case v1::RULE_KIND_FIT:
      return p.fit_rules(c.rule).id();
    case v1::RULE_KIND_ENGAGEMENT:
      return p.engagement().rules(c.rule).id();
    case v1::RULE_KIND_DISQUALIFICATION:
      return p.disqualification_rules(c.rule).id();
    case v1::RULE_KIND_OPT_OUT:
      return *kOptOut;
    case v1::RULE_KIND_HAND_RAISER:
      return p.hand_raiser_rules(c.rule).id();
    case v1::RULE_KIND_PRIORITY:
      return p.priority().rules(c.rule).id();
    default:
      return NoId();
  }
}

const std::string& PersonaIdOf(const v1::Playbook& p,
                               const RuleContribution& c) {
  return c.kind == v1::RULE_KIND_PERSONA_CRITERION ? p.personas(c.persona).id()
                                                   : NoId();
}

void DescribeRuleHit(const v1::Playbook& p, const RuleContribution& c,
                     v1::RuleHit* hit) {
  hit->set_kind(c.kind);
  hit->set_raw_points(c.raw_points);
  hit->set_points(c.points);
  hit->set_event_count(c.event_count);
  hit->set_rule_id(RuleIdOf(p, c));
  hit->set_persona_id(PersonaIdOf(p, c));
}

Scorer::Scorer(std::shared_ptr<const CompiledPlaybook> playbook)
    : playbook_(std::move(playbook)),
      properties_(&playbook_->property_slots()) {
  const auto& rules = playbook_->engagement_rules();
  rule_totals_.resize(rules.size());
  // Rules share a few half-lives: each event's decay is computed once per
  // distinct half-life, not once per rule.
  for (const CompiledPlaybook::EngagementRule& rule : rules) {
    auto it = std::find(decay_rates_.begin(), decay_rates_.end(),
                        rule.inverse_half_life_seconds);
    rule_decay_.push_back(static_cast<int>(it - decay_rates_.begin()));
    if (it == decay_rates_.end()) {
      decay_rates_.push_back(rule.inverse_half_life_seconds);
    }
  }
  decay_.resize(decay_rates_.size());
  decay_event_.resize(decay_rates_.size());
  windowed_.resize(playbook_->engagement_rules().size());
  hand_raised_.resize(playbook_->hand_raiser_rules().size());
  fit_decided_.resize(playbook_->fit_groups().size());
  fit_use_.resize(playbook_->fit_groups().size());
}

void Scorer::Remember(const DecidedValue& key, uint64_t bits,
                      Decisions* decisions) {
  if (decisions->size() >= kMaxDecisions) decisions->clear();
  decisions->emplace(DecisionKey{key.type_and_kind, std::string(key.bytes)},
                     bits);
}

bool Scorer::KeyOf(const FieldValue& value, uint8_t tag, DecidedValue* key) {
  if (value.text.size() > kMaxRememberedText) return false;
  key->type_and_kind = static_cast<uint16_t>(tag << 8 | value.kind);
  switch (value.kind) {
    case FieldValue::kNumber:
    case FieldValue::kEnum:  // its number: unknown numbers share a text
      key->bytes = absl::string_view(
          reinterpret_cast<const char*>(&value.number), sizeof(value.number));
      break;
    case FieldValue::kBool:
      key->bytes = value.boolean ? "1" : "0";
      break;
    default:
      key->bytes = value.text;
      break;
  }
  return true;
}

void Scorer::DecideFitGroups(const EvalContext& context) {
  // After this many lookups, a group whose values were found remembered
  // less than half the time (an email address) is decided each time:
  // remembering them costs more than it saves.
  constexpr int64_t kTrialLookups = 256;
  const auto& groups = playbook_->fit_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    const CompiledPlaybook::FitGroup& group = groups[g];
    auto decide = [&] {
      uint64_t bits = 0;
      for (size_t k = 0; k < group.members.size(); ++k) {
        if (playbook_->fit_condition(group.members[k]).Matches(context)) {
          bits |= uint64_t{1} << k;
        }
      }
      return bits;
    };
    FitGroupUse& use = fit_use_[g];
    if (use.off) {
      fit_decided_[g] = decide();
      continue;
    }
    // Named: the key may view its number.
    const FieldValue value = ReadField(group.field, context);
    DecidedValue key;
    if (!KeyOf(value, static_cast<uint8_t>(g), &key)) {
      fit_decided_[g] = decide();
      continue;
    }
    ++use.lookups;
    if (auto it = fit_decisions_.find(key); it != fit_decisions_.end()) {
      ++use.found;
      fit_decided_[g] = it->second;
      continue;
    }
    fit_decided_[g] = decide();
    if (use.lookups >= kTrialLookups && 2 * use.found < use.lookups) {
      use.off = true;
      continue;
    }
    Remember(key, fit_decided_[g], &fit_decisions_);
  }
}

void Scorer::ScoreFit(const EvalContext& context, LeadScore* out) {
  DecideFitGroups(context);
  auto matches = [&](const CompiledCondition& when, int group, int bit) {
    return group >= 0 ? (fit_decided_[group] >> bit & 1) != 0
                      : when.Matches(context);
  };
  const auto& personas = playbook_->personas();
  double best_fit = 0;
  best_persona_hits_.clear();
  for (int p = 0; p < static_cast<int>(personas.size()); ++p) {
    const CompiledPlaybook::Persona& persona = personas[p];
    persona_hits_.clear();
    double matched = 0;
    for (int c = 0; c < static_cast<int>(persona.criteria.size()); ++c) {
      const CompiledPlaybook::Criterion& criterion = persona.criteria[c];
      if (!matches(criterion.when, criterion.group, criterion.bit)) continue;
      matched += criterion.weight;
      persona_hits_.push_back(
          {v1::RULE_KIND_PERSONA_CRITERION, p, c, criterion.weight,
           100 * criterion.weight / persona.total_weight, 0});
    }
    const double fit = 100 * matched / persona.total_weight;
    // Strictly greater: on a tie the persona declared first wins.
    if (matched > 0 && (out->persona < 0 || fit > best_fit)) {
      best_fit = fit;
      out->persona = p;
      best_persona_hits_.swap(persona_hits_);
    }
  }
  out->explanation.insert(out->explanation.end(), best_persona_hits_.begin(),
                          best_persona_hits_.end());
  double fit = playbook_->fit_base() + best_fit;
  const auto& fit_rules = playbook_->fit_rules();
  for (int r = 0; r < static_cast<int>(fit_rules.size()); ++r) {
    const CompiledPlaybook::FitRule& rule = fit_rules[r];
    if (!matches(rule.when, rule.group, rule.bit)) continue;
    fit += rule.points;
    out->explanation.push_back(
        {v1::RULE_KIND_FIT, -1, r, rule.points, rule.points, 0});
  }
  out->fit = std::clamp(fit, playbook_->min_fit(), playbook_->max_fit());
  const auto& bands = playbook_->grade_bands();
  for (int b = static_cast<int>(bands.size()) - 1; b >= 0; --b) {
    if (out->fit >= bands[b].min_fit) {
      out->grade = bands[b].index;
      break;
    }
  }
}

void Scorer::MarkDuplicates(const FlatLead& lead, LeadScore* out) {
  const absl::Span<const FlatEvent> events = lead.events();
  const int n = static_cast<int>(events.size());
  duplicate_.assign(n, 0);
  if (n < 2) return;
  // Open addressing over event indexes, at most half full. absl's hash is
  // seeded per process, so hostile ids cannot be made to collide on purpose.
  size_t capacity = 16;
  while (capacity < 2 * static_cast<size_t>(n)) capacity *= 2;
  const size_t mask = capacity - 1;
  id_table_.assign(capacity, -1);
  id_hashes_.resize(n);
  for (int i = 0; i < n; ++i) {
    const absl::string_view id = events[i].id;
    const uint64_t hash = absl::HashOf(id);
    id_hashes_[i] = hash;
    // The first occurrence in input order is kept; any later event with the
    // same id is a duplicate.
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      const int j = id_table_[slot];
      if (j < 0) {
        id_table_[slot] = i;
        break;
      }
      if (id_hashes_[j] == hash && events[j].id == id) {
        duplicate_[i] = 1;
        ++out->duplicate_events;
        break;
      }
    }
  }
}

void Scorer::ScoreEngagement(const FlatLead& lead, absl::Time now,
                             const EvalContext& lead_context, LeadScore* out) {
  MarkDuplicates(lead, out);
  const int64_t now_s = absl::ToUnixSeconds(now);
  const int32_t now_ns = static_cast<int32_t>(
      absl::ToInt64Nanoseconds(now - absl::FromUnixSeconds(now_s)));
  std::fill(rule_totals_.begin(), rule_totals_.end(), RuleTotals{});
  std::fill(hand_raised_.begin(), hand_raised_.end(), 0);
  if (playbook_->has_window_caps()) {
    for (auto& list : windowed_) list.clear();
  }

  std::fill(decay_event_.begin(), decay_event_.end(), -1);

  EvalContext context = lead_context;
  context.properties = &properties_;
  const absl::Span<const FlatEvent> events = lead.events();
  for (int i = 0; i < static_cast<int>(events.size()); ++i) {
    if (duplicate_[i]) continue;
    const FlatEvent& event = events[i];
    const int64_t s = event.seconds;
    const int32_t ns = event.nanos;
    if (s > now_s || (s == now_s && ns > now_ns)) continue;
    ++out->events_counted;
    const double age = static_cast<double>(now_s - s) + (now_ns - ns) * 1e-9;
    context.event = &event;
    properties_.Reset(&lead, &event);
    TallyEngagementRules(i, age, context);
    if (playbook_->hand_raiser_event_types() >> event.type & 1) {
      RaiseHands(age, context);
    }
  }
  if (playbook_->has_window_caps()) CountWindowedEvents(now_s, now_ns);
  SumEngagement(out);
}

void Scorer::TallyEngagementRules(int i, double age,
                                  const EvalContext& context) {
  const FlatEvent& event = *context.event;
  const auto& rules = playbook_->engagement_rules();
  const std::vector<int>& candidates =
      playbook_->engagement_rules_for(event.type);
  const int slot = playbook_->engagement_deciding_slot(event.type);
  const uint64_t decided =
      slot >= 0 ? MatchByValue(slot, candidates, context) : 0;
  for (size_t k = 0; k < candidates.size(); ++k) {
    const int r = candidates[k];
    const CompiledPlaybook::EngagementRule& rule = rules[r];
    if (slot >= 0 ? (decided >> k & 1) == 0 : !rule.when.Matches(context)) {
      continue;
    }
    if (rule.window_seconds > 0) {
      windowed_[r].emplace_back(event.seconds, event.nanos, i);
      continue;
    }
    const int d = rule_decay_[r];
    if (decay_event_[d] != i) {
      decay_event_[d] = i;
      decay_[d] = std::exp2(-age * decay_rates_[d]);
    }
    RuleTotals& totals = rule_totals_[r];
    totals.raw += rule.points;
    totals.decayed += rule.points * decay_[d];
    ++totals.events;
  }
}

uint64_t Scorer::MatchByValue(int slot, const std::vector<int>& rules,
                              const EvalContext& context) {
  const FieldValue& value = properties_.Get(slot);
  auto decide = [&] {
    uint64_t bits = 0;
    for (size_t k = 0; k < rules.size(); ++k) {
      const CompiledCondition& when =
          playbook_->engagement_rules()[rules[k]].when;
      if (when.Matches(context)) bits |= uint64_t{1} << k;
    }
    return bits;
  };
  DecidedValue key;
  if (!KeyOf(value, static_cast<uint8_t>(context.event->type), &key)) {
    return decide();
  }
  if (auto it = decisions_.find(key); it != decisions_.end()) {
    return it->second;
  }
  const uint64_t bits = decide();
  Remember(key, bits, &decisions_);
  return bits;
}

void Scorer::RaiseHands(double age, const EvalContext& context) {
  const auto& raisers = playbook_->hand_raiser_rules();
  const uint64_t type_bit = uint64_t{1} << context.event->type;
  for (int h = 0; h < static_cast<int>(raisers.size()); ++h) {
    const CompiledPlaybook::HandRaiserRule& raiser = raisers[h];
    if ((raiser.event_type_mask & type_bit) == 0 || hand_raised_[h] ||
        age > static_cast<double>(raiser.lookback_seconds)) {
      continue;
    }
    if (raiser.when.Matches(context)) hand_raised_[h] = 1;
  }
}

// Window caps: the earliest events of each window count.
void Scorer::CountWindowedEvents(int64_t now_s, int32_t now_ns) {
  const auto& rules = playbook_->engagement_rules();
  for (int r = 0; r < static_cast<int>(rules.size()); ++r) {
    auto& list = windowed_[r];
    if (list.empty()) continue;
    const CompiledPlaybook::EngagementRule& rule = rules[r];
    std::sort(list.begin(), list.end());
    int64_t window = INT64_MIN;
    int in_window = 0;
    RuleTotals& totals = rule_totals_[r];
    for (const auto& [s, ns, i] : list) {
      const int64_t w = s >= 0 ? s / rule.window_seconds
                               : -((-s - 1) / rule.window_seconds) - 1;
      if (w != window) {
        window = w;
        in_window = 0;
      }
      if (++in_window > rule.window_max_events) continue;
      const double age = static_cast<double>(now_s - s) + (now_ns - ns) * 1e-9;
      totals.raw += rule.points;
      totals.decayed +=
          rule.points * std::exp2(-age * rule.inverse_half_life_seconds);
      ++totals.events;
    }
  }
}

// Each rule's points, capped, into the engagement score and its explanation.
void Scorer::SumEngagement(LeadScore* out) const {
  const auto& rules = playbook_->engagement_rules();
  double engagement = 0;
  for (int r = 0; r < static_cast<int>(rules.size()); ++r) {
    const RuleTotals& totals = rule_totals_[r];
    if (totals.events == 0) continue;
    double points = totals.decayed;
    if (rules[r].max_points > 0) {
      points = std::clamp(points, -rules[r].max_points, rules[r].max_points);
    }
    engagement += points;
    out->explanation.push_back(
        {v1::RULE_KIND_ENGAGEMENT, -1, r, totals.raw, points, totals.events});
  }
  out->engagement = std::clamp(engagement, playbook_->min_engagement(),
                               playbook_->max_engagement());
}

absl::Status Scorer::Score(const v1::Lead& lead, absl::Time now,
                           LeadScore* out) {
  if (absl::Status status = ValidateLead(lead); !status.ok()) return status;
  flat_.Assign(lead);
  ScoreFlat(flat_, now, out);
  return absl::OkStatus();
}

void Scorer::ScoreFlat(const FlatLead& flat, absl::Time now, LeadScore* out) {
  const v1::Lead& lead = flat.fields();
  // Keep the explanation's storage: scoring millions of leads must not
  // allocate per lead.
  std::vector<RuleContribution> explanation = std::move(out->explanation);
  explanation.clear();
  *out = LeadScore{};
  out->explanation = std::move(explanation);

  playbook_->attribute_slots().Resolve(lead.attributes(), &attributes_);
  EvalContext context;
  context.lead = &lead;
  context.attributes = &attributes_;

  ScoreFit(context, out);
  ScoreEngagement(flat, now, context, out);
  out->total = out->fit + out->engagement;

  // Opt-out and disqualification take precedence over any score.
  const bool opted_out = lead.consent().opted_out();
  if (opted_out) {
    if (playbook_->opt_out_disqualifies()) {
      out->stage = v1::LIFECYCLE_STAGE_DISQUALIFIED;
      out->disqualification_reason = v1::DISQUALIFICATION_REASON_OPTED_OUT;
    }
    out->explanation.push_back({v1::RULE_KIND_OPT_OUT, -1, -1, 0, 0, 0});
  }
  const auto& disqualifications = playbook_->disqualification_rules();
  for (int r = 0; r < static_cast<int>(disqualifications.size()); ++r) {
    if (!disqualifications[r].when.Matches(context)) continue;
    if (out->stage != v1::LIFECYCLE_STAGE_DISQUALIFIED) {
      out->stage = v1::LIFECYCLE_STAGE_DISQUALIFIED;
      out->disqualification_reason =
          playbook_->playbook().disqualification_rules(r).reason();
    }
    out->explanation.push_back(
        {v1::RULE_KIND_DISQUALIFICATION, -1, r, 0, 0, 0});
  }
  if (out->stage == v1::LIFECYCLE_STAGE_DISQUALIFIED) {
    if (playbook_->zero_disqualified_scores()) {
      out->fit = out->engagement = out->total = 0;
    }
    if (playbook_->disqualified_grade() >= 0) {
      out->grade = playbook_->disqualified_grade();
    }
    return;
  }

  v1::Priority raised = v1::PRIORITY_UNSPECIFIED;
  const auto& raisers = playbook_->hand_raiser_rules();
  for (int h = 0; h < static_cast<int>(raisers.size()); ++h) {
    if (!hand_raised_[h] || out->fit < raisers[h].min_fit) continue;
    out->hand_raiser = true;
    raised = std::max(raised, raisers[h].priority);
    out->explanation.push_back({v1::RULE_KIND_HAND_RAISER, -1, h, 0, 0, 0});
  }
  const v1::StageThreshold& mql = playbook_->playbook().thresholds().mql();
  const bool qualified =
      MeetsThreshold(mql, out->fit, out->engagement, out->total);
  // An opted-out lead the Playbook keeps (OPT_OUT_POLICY_NEVER_MQL) and one
  // the MQL condition excludes nurture whatever their scores.
  const bool may_qualify = !opted_out && playbook_->mql_when().Matches(context);
  out->stage = may_qualify && (out->hand_raiser || qualified)
                   ? v1::LIFECYCLE_STAGE_MQL
                   : v1::LIFECYCLE_STAGE_NURTURE;

  const v1::Playbook& p = playbook_->playbook();
  ScoreView view;
  view.fit = out->fit;
  view.engagement = out->engagement;
  view.total = out->total;
  view.hand_raiser = out->hand_raiser;
  if (out->grade >= 0) view.grade = p.grade_bands(out->grade).grade();
  if (out->persona >= 0) view.persona = p.personas(out->persona).id();
  context.score = &view;
  out->priority = playbook_->default_priority();
  const auto& priority_rules = playbook_->priority_rules();
  for (int r = 0; r < static_cast<int>(priority_rules.size()); ++r) {
    if (!priority_rules[r].when.Matches(context)) continue;
    out->priority = p.priority().rules(r).priority();
    out->explanation.push_back({v1::RULE_KIND_PRIORITY, -1, r, 0, 0, 0});
    break;
  }
  out->priority = std::max(out->priority, raised);
}

absl::StatusOr<v1::ScoreResult> Scorer::Score(const v1::Lead& lead,
                                              absl::Time now) {
  LeadScore score;
  if (absl::Status status = Score(lead, now, &score); !status.ok()) {
    return status;
  }
  v1::ScoreResult result;
  ToProto(lead, score, now, &result);
  return result;
}

void Scorer::ToProto(const v1::Lead& lead, const LeadScore& score,
                     absl::Time now, v1::ScoreResult* out,
                     Explanation explanation) const {
  const v1::Playbook& p = playbook_->playbook();
  out->Clear();
  out->set_lead_id(lead.id());
  out->set_fit_score(score.fit);
  if (score.grade >= 0) out->set_grade(p.grade_bands(score.grade).grade());
  if (score.persona >= 0) out->set_persona_id(p.personas(score.persona).id());
  out->set_engagement_score(score.engagement);
  out->set_total_score(score.total);
  out->set_recommended_stage(score.stage);
  out->set_priority(score.priority);
  out->set_hand_raiser(score.hand_raiser);
  out->set_disqualification_reason(score.disqualification_reason);
  out->set_playbook_version(playbook_->version_label());
  const int64_t seconds = absl::ToUnixSeconds(now);
  out->mutable_scored_at()->set_seconds(seconds);
  out->mutable_scored_at()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(now - absl::FromUnixSeconds(seconds))));
  out->set_events_counted(score.events_counted);
  out->set_duplicate_events(score.duplicate_events);

  if (explanation == Explanation::kNone) return;
  const bool sentences = explanation == Explanation::kSentences;
  for (const RuleContribution& c : score.explanation) {
    DescribeHit(p, c, score.fit, playbook_->opt_out_disqualifies(), sentences,
                out->add_explanation());
  }
}

}  // namespace smarketing
