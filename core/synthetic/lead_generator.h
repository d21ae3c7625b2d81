// Synthetic B2B leads with engagement events, shaped for the demo Playbook
// (examples/playbooks/demo.yaml): for demos, tests and benchmarks that need
// many realistic leads without any personal data.
#ifndef SMARKETING_CORE_SYNTHETIC_LEAD_GENERATOR_H_
#define SMARKETING_CORE_SYNTHETIC_LEAD_GENERATOR_H_

#include <cstdint>

#include "absl/time/time.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

struct LeadGeneratorOptions {
  // The synthetic world: companies, people and their behaviour.
  uint64_t seed = 1;
  // Events and creation times fall in the 120 days before this instant.
  // Set it: the default is the Unix epoch.
  absl::Time now;
  // Average events per lead; counts spread over 0..2*mean_events.
  double mean_events = 20;
};

// Every value comes from the generator's own integer PRNG and arithmetic, so
// a seed gives the same bytes on every platform and library version.
class LeadGenerator {
 public:
  explicit LeadGenerator(LeadGeneratorOptions options);

  // Lead number `index` (0-based): the same seed and index always give the
  // same lead, so leads can be generated in parallel or streamed by the
  // million without keeping them. Clears *lead first; reusing one Lead (or
  // an arena) across calls avoids most allocations.
  void Generate(int64_t index, v1::Lead* lead) const;

  // Whether the synthetic person eventually converted (became an
  // opportunity), won, and for how much (EUR, whole euros; 0 unless won):
  // a deterministic function of the lead, the seed and `index`, with noise,
  // more likely with a good fit and strong recent intent. Reads the lead as
  // given, so notebooks may alter leads and see outcomes move with them.
  struct Outcome {
    bool converted = false;
    bool won = false;
    double revenue = 0;
  };
  Outcome OutcomeOf(const v1::Lead& lead, int64_t index) const;

 private:
  LeadGeneratorOptions options_;
  int64_t now_ms_;
  int64_t mean_events_x16_;  // mean_events in sixteenths, clamped
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_SYNTHETIC_LEAD_GENERATOR_H_
