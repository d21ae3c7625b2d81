#include "grpc_server/history_writer.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "core/base/proto_time.h"
#include "core/synthetic/lead_generator.h"

namespace smarketing {
namespace {

struct Action {
  absl::Time at;
  int64_t order;
  std::function<void(absl::Time)> run;
  bool operator>(const Action& o) const {
    return std::tie(at, order) > std::tie(o.at, o.order);
  }
};

class History {
 public:
  History(LeadDesk* desk, absl::Time end, uint64_t seed)
      : desk_(desk), end_(end), rng_(seed) {}

  void At(absl::Time t, std::function<void(absl::Time)> run) {
    if (t < end_) queue_.push({t, next_++, std::move(run)});
  }

  void Run() {
    while (!queue_.empty()) {
      Action a = queue_.top();
      queue_.pop();
      a.run(a.at);
    }
  }

  double Uniform() {
    return std::uniform_real_distribution<double>(0, 1)(rng_);
  }
  absl::Duration Hours(double lo, double hi) {
    return absl::Seconds(3600 * (lo + (hi - lo) * Uniform()));
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Uniform() * v.size()) % v.size()];
  }

  void Arrive(v1::Lead lead, absl::Time t) {
    auto written = desk_->Upsert(std::move(lead), 0, t);
    if (!written.ok()) return Count(written.status());
    ++arrivals_;
    if (written->lead.lifecycle.stage() == v1::LIFECYCLE_STAGE_MQL) {
      OnMql(written->lead, t);
    }
  }

  // What sales does with an MQL: a slow owner touches late, the grade and
  // the source drive acceptance; week 6 before the end brings a webinar
  // full of students that sales rejects.
  void OnMql(const StoredLead& lead, absl::Time t) {
    ++mqls_;
    const std::string id = lead.lead.id();
    const std::string owner = lead.score.routing().owner_id();
    const bool slow = !owner.empty() && (owner.back() % 3 == 0);
    if (Uniform() < 0.06) return;  // never touched: untreated or forgotten
    const absl::Duration touch = slow ? Hours(1, 30) : Hours(0.1, 5);
    const std::string grade = lead.score.grade();
    const bool student_wave = t > end_ - absl::Hours(24 * 7 * 6) &&
                              t < end_ - absl::Hours(24 * 7 * 4) &&
                              lead.lead.source() == "webinar";
    double accept = grade == "A"   ? 0.85
                    : grade == "B" ? 0.7
                    : grade == "C" ? 0.45
                                   : 0.25;
    if (student_wave) accept = 0.15;
    At(t + touch, [this, id, owner, accept, student_wave](absl::Time at) {
      if (!desk_->RecordFirstTouch(id, at, at).ok()) return;
      At(at + Hours(0.5, 20),
         [this, id, owner, accept, student_wave](absl::Time at) {
           v1::Feedback f = Feedback(id, owner, at);
           if (Uniform() < accept) {
             f.mutable_accepted();
             if (Apply(f, at)) Accepted(id, owner, at);
           } else {
             f.mutable_rejected()->set_reason_code(
                 student_wave
                     ? "out_of_target"
                     : Pick<std::string>({"no_budget", "no_budget",
                                          "bad_timing", "wrong_contact",
                                          "not_interested", "competitor"}));
             if (Apply(f, at) && Uniform() < 0.25) {
               // Some recycled leads come back with a demo request.
               At(at + Hours(24 * 31, 24 * 45), [this, id](absl::Time at) {
                 google::protobuf::RepeatedPtrField<v1::Event> events;
                 v1::Event* e = events.Add();
                 e->set_id(absl::StrCat(id, "-back-", absl::ToUnixSeconds(at)));
                 e->set_type(v1::EVENT_TYPE_DEMO_REQUEST);
                 TimeToProto(at, e->mutable_occurred_at());
                 auto written = desk_->RecordEvents(id, events, at);
                 if (written.ok() && written->lead.lifecycle.stage() ==
                                         v1::LIFECYCLE_STAGE_MQL) {
                   OnMql(written->lead, at);
                 }
               });
             }
           }
         });
    });
  }

  void Accepted(const std::string& id, const std::string& owner, absl::Time t) {
    if (Uniform() > 0.62) return;
    At(t + Hours(24, 24 * 5), [this, id, owner](absl::Time at) {
      v1::Feedback f = Feedback(id, owner, at);
      f.mutable_meeting_held();
      if (!Apply(f, at) || Uniform() > 0.55) return;
      At(at + Hours(4, 24 * 3), [this, id, owner](absl::Time at) {
        v1::Feedback f = Feedback(id, owner, at);
        const double amount = 5000 * (2 + static_cast<int>(Uniform() * 18));
        f.mutable_opportunity_created()->mutable_amount()->set_amount(amount);
        if (!Apply(f, at)) return;
        At(at + Hours(24 * 5, 24 * 25),
           [this, id, owner, amount](absl::Time at) {
             v1::Feedback f = Feedback(id, owner, at);
             if (Uniform() < 0.38) {
               f.mutable_won()->mutable_revenue()->set_amount(amount);
               f.mutable_won()->mutable_margin()->set_amount(amount * 0.7);
             } else {
               f.mutable_lost()->set_reason_code(Pick<std::string>(
                   {"price", "chose_competitor", "no_decision",
                    "missing_feature", "security_review"}));
             }
             Apply(f, at);
           });
      });
    });
  }

  DemoHistoryCounts counts() const {
    return {arrivals_, mqls_, feedback_, refused_};
  }

 private:
  static v1::Feedback Feedback(const std::string& id, const std::string& owner,
                               absl::Time at) {
    v1::Feedback f;
    f.set_lead_id(id);
    f.set_actor_id(owner.empty() ? "usr-sales-queue" : owner);
    TimeToProto(at, f.mutable_at());
    return f;
  }
  bool Apply(const v1::Feedback& f, absl::Time at) {
    auto written = desk_->ApplyFeedback(f, 0, at);
    if (!written.ok()) {
      Count(written.status());
      return false;
    }
    ++feedback_;
    return true;
  }
  // The lifecycle may refuse a move (e.g. the lead was recycled by its SLA
  // in between): counted, as a real CRM's late feedback would be.
  void Count(const absl::Status&) { ++refused_; }

  LeadDesk* desk_;
  absl::Time end_;
  std::mt19937_64 rng_;
  std::priority_queue<Action, std::vector<Action>, std::greater<Action>> queue_;
  int64_t next_ = 0;
  int64_t arrivals_ = 0, mqls_ = 0, feedback_ = 0, refused_ = 0;
};

}  // namespace

DemoHistoryCounts WriteDemoHistory(LeadDesk* desk,
                                   const DemoHistoryOptions& options) {
  // Each thread works its own share of the leads, in time order; their
  // writes meet in the store's group commits.
  const int threads = std::max(1, options.threads);
  std::vector<std::unique_ptr<History>> shards;
  for (int k = 0; k < threads; ++k) {
    shards.push_back(
        std::make_unique<History>(desk, options.end, options.seed + k));
  }
  const int weeks = options.weeks;
  const absl::Time start = absl::FromCivil(
      absl::ToCivilDay(options.end - absl::Hours(24 * 7 * weeks),
                       absl::UTCTimeZone()),
      absl::UTCTimeZone());
  int64_t index = 0;
  for (int day = 0; day < 7 * weeks; ++day) {
    const absl::Time midnight = start + absl::Hours(24 * day);
    const absl::Weekday weekday =
        absl::GetWeekday(absl::ToCivilDay(midnight, absl::UTCTimeZone()));
    const bool weekend =
        weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday;
    // Fewer arrivals at weekends; a slow growth week after week.
    const double growth = 1 + 0.03 * (day / 7);
    const int count = static_cast<int>(options.leads_per_day * growth *
                                       (weekend ? 0.3 : 1.0));
    for (int i = 0; i < count; ++i) {
      const int64_t n = index++;
      History& history = *shards[n % threads];
      const absl::Time at = midnight + history.Hours(7, 20);
      history.At(at, [&history, n, seed = options.seed](absl::Time at) {
        LeadGeneratorOptions options;
        options.seed = seed;
        options.now = at;
        v1::Lead lead;
        LeadGenerator(options).Generate(n, &lead);
        lead.set_id(absl::StrCat("demo-", n));
        history.Arrive(std::move(lead), at);
      });
    }
  }
  std::vector<std::thread> running;
  for (int k = 1; k < threads; ++k) {
    running.emplace_back([&shards, k] { shards[k]->Run(); });
  }
  shards[0]->Run();
  for (std::thread& t : running) t.join();
  DemoHistoryCounts total;
  for (const auto& history : shards) {
    const DemoHistoryCounts c = history->counts();
    total.arrivals += c.arrivals;
    total.mqls += c.mqls;
    total.feedback += c.feedback;
    total.refused += c.refused;
  }
  return total;
}

}  // namespace smarketing
