// Reads and writes protobuf messages as YAML (and JSON, which YAML parses),
// reporting every problem with its field path, line and column.
//
// The mapping is protobuf's JSON mapping, so a document converts to JSON and
// back without loss, with a few conveniences for people writing by hand:
// field names in snake_case or lowerCamelCase; enum values by full name
// ("EVENT_TYPE_DEMO_REQUEST") or without their prefix, in any case
// ("demo_request"); durations as "90s", "1.5h", "2h30m" or "7d".
#ifndef SMARKETING_CORE_BASE_YAML_MESSAGE_H_
#define SMARKETING_CORE_BASE_YAML_MESSAGE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/base/problems.h"
#include "google/protobuf/message.h"

namespace smarketing {

// Parses `text` into `message` (cleared first). Syntax and mapping problems
// are added to `problems`; where each field was written is recorded in
// `positions` (optional). Returns false when any problem was found; the
// message is then incomplete and must not be used.
bool ParseYamlMessage(absl::string_view text,
                      google::protobuf::Message* message, ProblemList* problems,
                      SourceMap* positions = nullptr);

// The message as block-style YAML with snake_case names and full enum names;
// ParseYamlMessage reads it back to an equal message.
std::string MessageToYaml(const google::protobuf::Message& message);

// Durations as written by hand: absl's ("90s", "1.5h", "2h30m") plus days
// ("7d"). Used by the YAML mapping and by command-line flags.
bool ParseHumanDuration(absl::string_view text, absl::Duration* out);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_YAML_MESSAGE_H_
