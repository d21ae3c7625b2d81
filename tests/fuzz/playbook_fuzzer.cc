// Loading a Playbook as people and tools write it, and validating it as the
// service does before it accepts one. The first byte chooses the format
// (YAML, JSON, protobuf text, binary); the rest is the document. Any input
// must give a Playbook or problems, never a crash or a hang; a Playbook the
// YAML mapping accepts must come back equal from MessageToYaml.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "core/base/yaml_message.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/playbook_loader.h"
#include "tests/fuzz/fuzz_util.h"

namespace smarketing::fuzz {

void TestOneInput(absl::string_view input) {
  if (input.empty()) return;
  static constexpr PlaybookFormat kFormats[] = {
      PlaybookFormat::kYaml, PlaybookFormat::kJson, PlaybookFormat::kText,
      PlaybookFormat::kBinary};
  const PlaybookFormat format =
      kFormats[static_cast<unsigned char>(input[0]) % 4];
  absl::StatusOr<PlaybookSource> source =
      ParsePlaybook(input.substr(1), format, "fuzz");
  if (!source.ok()) {
    Check(ProblemsFromStatus(source.status()).has_value(),
          "a Playbook that cannot be read has no problems listed");
    return;
  }
  if (format == PlaybookFormat::kYaml || format == PlaybookFormat::kJson) {
    v1::Playbook again;
    ProblemList problems;
    Check(ParseYamlMessage(MessageToYaml(source->playbook), &again, &problems),
          "MessageToYaml wrote what the reader refuses");
    Check(Bytes(again) == Bytes(source->playbook),
          "MessageToYaml and back changed the Playbook");
  }
  auto engine =
      LeadEngine::Create(source->playbook, &source->positions, "fuzz");
  if (!engine.ok()) {
    Check(ProblemsFromStatus(engine.status()).has_value(),
          "an invalid Playbook has no problems listed");
  }
}

}  // namespace smarketing::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smarketing::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
