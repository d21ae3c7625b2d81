// Scoring a fuzzed lead (protobuf JSON, as `smarketing score` reads it)
// with the demo Playbook, and moving it through the lifecycle as the
// service does: a malformed lead is INVALID_ARGUMENT, any other is scored
// within the documented ranges; nothing crashes or hangs.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/journey/lead_engine.h"
#include "core/leads/lead_json.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/scorer.h"
#include "smarketing/v1/routing_state.pb.h"
#include "tests/fuzz/fuzz_util.h"

namespace smarketing::fuzz {

void TestOneInput(absl::string_view json) {
  // Kept for the whole run, as the service keeps its active Playbook.
  static const auto* demo = [] {
    auto source =
        LoadPlaybookFile(SMARKETING_SOURCE_DIR "/examples/playbooks/demo.yaml");
    if (!source.ok()) Fail(std::string(source.status().message()));
    auto created = LeadEngine::Create(source->playbook);
    if (!created.ok()) Fail(std::string(created.status().message()));
    return new std::shared_ptr<const LeadEngine>(*created);
  }();
  const LeadEngine* engine = demo->get();
  static Scorer* scorer = new Scorer(engine->playbook());
  const absl::Time now =
      absl::FromUnixSeconds(1795424400);  // 2026-11-23T09:00:00Z

  v1::Lead lead;
  if (!ParseLeadJsonQuickly(json, &lead).ok()) return;
  absl::StatusOr<v1::ScoreResult> result = scorer->Score(lead, now);
  if (!result.ok()) {
    Check(result.status().code() == absl::StatusCode::kInvalidArgument,
          absl::StrCat("a lead failed with ", result.status().ToString()));
    return;
  }
  Check(result->fit_score() >= 0 && result->fit_score() <= 100,
        "fit outside [0, 100]");
  Check(result->engagement_score() >= 0 &&
            result->engagement_score() <=
                engine->playbook()->playbook().engagement().max_score(),
        "engagement outside [0, max_score]");
  Check(std::isfinite(result->total_score()), "a total that is not finite");

  LeadState state;
  absl::StatusOr<v1::LeadLifecycle> lifecycle = engine->Start(now);
  Check(lifecycle.ok(), "a lifecycle cannot start");
  state.lifecycle = *lifecycle;
  v1::RoutingState routing;
  const absl::Status refreshed =
      engine->Refresh(lead, now, scorer, &state, &routing);
  Check(
      refreshed.ok() || refreshed.code() == absl::StatusCode::kInvalidArgument,
      absl::StrCat("refreshing failed with ", refreshed.ToString()));
}

}  // namespace smarketing::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smarketing::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
