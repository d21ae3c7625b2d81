// smarketing-demo-history: fills a lead store with weeks of realistic
// history (arrivals, MQLs, first touches on time and late, acceptances and
// rejections with reasons, meetings, wins and losses, recycled leads that
// come back) so that the first weekly review tells a story. It drives the
// service's own LeadDesk, the layer under the gRPC API, with a simulated
// clock: the API stamps every write with the server's clock and cannot
// write the past. Run it on a store no server has open.
#include <cstdio>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "core/base/proto_time.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/playbook_loader.h"
#include "core/synthetic/lead_generator.h"
#include "grpc_server/lead_desk.h"
#include "grpc_server/playbooks.h"
#include "store/store.h"

ABSL_FLAG(std::string, store, "", "SQLite store to fill (required)");
ABSL_FLAG(std::string, playbook, "",
          "Playbook published and activated when the store has none");
ABSL_FLAG(int, weeks, 12, "weeks of history, ending at --end");
ABSL_FLAG(int, leads_per_day, 40,
          "arrivals per day at the start (grows 3% a week)");
ABSL_FLAG(std::string, end, "", "end of the history, RFC 3339; default now");
ABSL_FLAG(uint64_t, seed, 7, "same seed, same history");

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

  void Report() const {
    std::printf(
        "arrivals=%lld mqls=%lld feedback=%lld refused=%lld\n",
        static_cast<long long>(arrivals_), static_cast<long long>(mqls_),
        static_cast<long long>(feedback_), static_cast<long long>(refused_));
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

int Main() {
  const std::string path = absl::GetFlag(FLAGS_store);
  if (path.empty()) {
    std::fprintf(stderr, "smarketing-demo-history: --store is required\n");
    return 2;
  }
  absl::Time end = absl::Now();
  if (const std::string e = absl::GetFlag(FLAGS_end); !e.empty()) {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, e, &end, &error)) {
      std::fprintf(stderr, "smarketing-demo-history: --end: %s\n",
                   error.c_str());
      return 2;
    }
  }
  auto store = OpenSqliteStore(path);
  if (!store.ok()) {
    std::fprintf(stderr, "smarketing-demo-history: %s\n",
                 std::string(store.status().message()).c_str());
    return 1;
  }
  Playbooks playbooks(store->get());
  if (!playbooks.Get(0).ok()) {
    auto source = LoadPlaybookFile(absl::GetFlag(FLAGS_playbook));
    if (!source.ok()) {
      std::fprintf(stderr, "smarketing-demo-history: --playbook: %s\n",
                   std::string(source.status().message()).c_str());
      return 2;
    }
    auto engine =
        LeadEngine::Create(source->playbook, &source->positions, source->file);
    if (!engine.ok() ||
        !playbooks.Publish(*std::move(engine), "smarketing-demo-history", true)
             .ok()) {
      std::fprintf(stderr,
                   "smarketing-demo-history: cannot publish the Playbook\n");
      return 1;
    }
  }
  LeadDesk desk(store->get(), &playbooks);
  History history(&desk, end, absl::GetFlag(FLAGS_seed));
  const int weeks = absl::GetFlag(FLAGS_weeks);
  const absl::Time start = absl::FromCivil(
      absl::ToCivilDay(end - absl::Hours(24 * 7 * weeks), absl::UTCTimeZone()),
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
    const int count = static_cast<int>(absl::GetFlag(FLAGS_leads_per_day) *
                                       growth * (weekend ? 0.3 : 1.0));
    for (int i = 0; i < count; ++i) {
      const absl::Time at = midnight + history.Hours(7, 20);
      const int64_t n = index++;
      history.At(
          at, [&history, n, seed = absl::GetFlag(FLAGS_seed)](absl::Time at) {
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
  history.Run();
  history.Report();
  return 0;
}

}  // namespace
}  // namespace smarketing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return smarketing::Main();
}
