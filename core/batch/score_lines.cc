#include "core/batch/score_lines.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/batch/score_json.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace smarketing {
namespace {

// An MQL kept for routing, which reads conditions of lead scope only: its
// events, most of a lead, are not copied.
void CopyForRouting(const v1::Lead& from, v1::Lead* to) {
  using google::protobuf::FieldDescriptor;
  to->Clear();
  const google::protobuf::Reflection* reflection = from.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(from, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->number() == v1::Lead::kEventsFieldNumber) continue;
    if (field->is_repeated()) {
      to->CopyFrom(from);  // a field this copy does not know: all of it
      return;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        reflection->SetString(to, field, reflection->GetString(from, field));
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        reflection->SetEnumValue(to, field,
                                 reflection->GetEnumValue(from, field));
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        reflection->MutableMessage(to, field)->CopyFrom(
            reflection->GetMessage(from, field));
        break;
      default:
        to->CopyFrom(from);
        return;
    }
  }
}

}  // namespace

absl::StatusOr<ScoreLinesSummary> ScoreToJsonLines(
    const LeadEngine& engine, LeadSource& source,
    const ScoreLinesOptions& options,
    const std::function<bool(absl::string_view)>& write,
    const std::function<void(absl::string_view)>& refuse) {
  LeadPipeline pipeline({engine.playbook()}, options.now, options.threads);
  const bool sentences = options.explanation == Explanation::kSentences;
  struct Worker {
    ScoreJsonWriter writer;
    v1::ScoreResult result;
  };
  std::vector<Worker> workers(pipeline.threads());
  // What each lead of a block leaves for on_block: its JSON line, or its
  // error; MQLs kept whole until they are routed. One per slot.
  struct Mql {
    v1::Lead lead;
    v1::ScoreResult result;
  };
  struct Block {
    std::vector<std::string> lines;
    std::vector<std::string> errors;
    std::vector<v1::LifecycleStage> stages;
    std::vector<Mql> mqls;
  };
  Block blocks[2];
  // on_block's own, as it runs beside the workers.
  ScoreJsonWriter block_writer;
  v1::RoutingState routing;
  std::string buffer;
  ScoreLinesSummary summary;
  int64_t read = 0;

  auto on_lead = [&](const ScoredLead& s) {
    Block& block = blocks[s.slot];
    if (!s.status.ok()) {
      block.errors[s.i] =
          s.lead == nullptr
              ? std::string(s.status.message())
              : absl::StrCat(options.name, ":", source.line(s.slot, s.i),
                             ": lead \"", s.lead->id(),
                             "\": ", s.status.message());
      return;
    }
    block.errors[s.i].clear();
    LeadScore& score = s.scores[0];
    block.stages[s.i] = score.stage;
    if (options.explanation == Explanation::kNone) score.explanation.clear();
    const Scorer& scorer = pipeline.scorer(s.thread, 0);
    if (score.stage == v1::LIFECYCLE_STAGE_MQL) {
      CopyForRouting(*s.lead, &block.mqls[s.i].lead);
      scorer.ToProto(*s.lead, score, options.now, &block.mqls[s.i].result,
                     sentences);
      return;
    }
    Worker& w = workers[s.thread];
    scorer.ToProto(*s.lead, score, options.now, &w.result, sentences);
    block.lines[s.i].clear();
    w.writer.Append(w.result, &block.lines[s.i]);
  };

  auto on_block = [&](int slot, int64_t n) -> absl::Status {
    Block& block = blocks[slot];
    buffer.clear();
    for (int64_t i = 0; i < n; ++i) {
      if (!block.errors[i].empty()) {
        refuse(block.errors[i]);
        ++summary.refused;
        continue;
      }
      ++summary.scored;
      ++summary.by_stage[block.stages[i]];
      if (block.stages[i] == v1::LIFECYCLE_STAGE_MQL) {
        Mql& mql = block.mqls[i];
        engine.AssignNewMql(mql.lead, options.now, &routing, &mql.result);
        block_writer.Append(mql.result, &buffer);
      } else {
        buffer += block.lines[i];
      }
      buffer += '\n';
    }
    if (!write(buffer)) return absl::AbortedError("the output was closed");
    read += n;
    if (options.progress) options.progress(read, source.fraction_done());
    return absl::OkStatus();
  };

  // The block's storage is sized before its leads are scored.
  auto on_start = [&](int slot, int64_t n) {
    Block& block = blocks[slot];
    if (static_cast<int64_t>(block.lines.size()) < n) {
      block.lines.resize(n);
      block.errors.resize(n);
      block.stages.resize(n);
      block.mqls.resize(n);
    }
  };
  if (absl::Status st = pipeline.Run(source, on_start, on_lead, on_block);
      !st.ok()) {
    return st;
  }
  return summary;
}

}  // namespace smarketing
