// smarketing-demo-history: fills a lead store with weeks of realistic
// history (arrivals, MQLs, first touches on time and late, acceptances and
// rejections with reasons, meetings, wins and losses, recycled leads that
// come back) so that the first weekly review tells a story. It drives the
// service's own LeadDesk, the layer under the gRPC API, with a simulated
// clock: the API stamps every write with the server's clock and cannot
// write the past. Run it on a store no server has open.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/playbook_loader.h"
#include "grpc_server/history_writer.h"
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
ABSL_FLAG(uint64_t, seed, 7, "same seed, same history (with one thread)");
ABSL_FLAG(int, threads, 1,
          "threads writing at once: their writes share transactions, which "
          "fills a large store faster");

namespace smarketing {
namespace {

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
        !playbooks
             .Publish(
                 *std::move(engine), "smarketing-demo-history", true,
                 // In force from the history's first day on (as
                 // WriteDemoHistory counts it): the review reads the
                 // versions active in its period.
                 absl::FromCivil(
                     absl::ToCivilDay(
                         end - absl::Hours(24 * 7 * absl::GetFlag(FLAGS_weeks)),
                         absl::UTCTimeZone()),
                     absl::UTCTimeZone()))
             .ok()) {
      std::fprintf(stderr,
                   "smarketing-demo-history: cannot publish the Playbook\n");
      return 1;
    }
  }
  LeadDesk desk(store->get(), &playbooks);
  const DemoHistoryCounts counts = WriteDemoHistory(
      &desk, {absl::GetFlag(FLAGS_weeks), absl::GetFlag(FLAGS_leads_per_day),
              end, absl::GetFlag(FLAGS_seed), absl::GetFlag(FLAGS_threads)});
  std::printf("arrivals=%lld mqls=%lld feedback=%lld refused=%lld\n",
              static_cast<long long>(counts.arrivals),
              static_cast<long long>(counts.mqls),
              static_cast<long long>(counts.feedback),
              static_cast<long long>(counts.refused));
  return 0;
}

}  // namespace
}  // namespace smarketing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return smarketing::Main();
}
