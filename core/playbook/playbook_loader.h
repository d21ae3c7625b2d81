// Reads a Playbook from YAML, JSON or protobuf text, keeping where each field
// was written so that validation problems point at a line and column.
#ifndef SMARKETING_CORE_PLAYBOOK_PLAYBOOK_LOADER_H_
#define SMARKETING_CORE_PLAYBOOK_PLAYBOOK_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/base/problems.h"
#include "smarketing/v1/playbook.pb.h"

namespace smarketing {

enum class PlaybookFormat { kYaml, kJson, kText, kBinary };

// A parsed Playbook and the positions of its fields in the source.
struct PlaybookSource {
  v1::Playbook playbook;
  SourceMap positions;
  std::string file;
};

// Playbooks larger than this are refused before parsing: reading a YAML
// document costs about 60 times its size in memory. The demo Playbook is
// 23 KB.
inline constexpr size_t kMaxPlaybookBytes = 1 << 20;

// Parses `text`. On a syntax or mapping error: INVALID_ARGUMENT carrying
// every problem (see ProblemsFromStatus), each with line and column.
absl::StatusOr<PlaybookSource> ParsePlaybook(absl::string_view text,
                                             PlaybookFormat format,
                                             absl::string_view file = "");

// Reads `path`, choosing the format from its extension: .yaml/.yml, .json,
// .textproto/.txtpb/.pbtxt, .pb/.binpb.
absl::StatusOr<PlaybookSource> LoadPlaybookFile(const std::string& path);

absl::StatusOr<PlaybookFormat> PlaybookFormatFromPath(absl::string_view path);

// Reads a whole file, refusing files over max_bytes.
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             size_t max_bytes);

}  // namespace smarketing

#endif  // SMARKETING_CORE_PLAYBOOK_PLAYBOOK_LOADER_H_
