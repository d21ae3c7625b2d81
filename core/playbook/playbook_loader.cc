#include "core/playbook/playbook_loader.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/yaml_message.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace smarketing {
namespace {

class TextErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit TextErrorCollector(ProblemList* problems) : problems_(problems) {}
  void AddError(int line, int column, const std::string& message) override {
    problems_->AddAt("", {line + 1, column + 1}, message);
  }

 private:
  ProblemList* problems_;
};

}  // namespace

absl::StatusOr<PlaybookFormat> PlaybookFormatFromPath(absl::string_view path) {
  for (absl::string_view ext : {".yaml", ".yml"}) {
    if (absl::EndsWithIgnoreCase(path, ext)) return PlaybookFormat::kYaml;
  }
  if (absl::EndsWithIgnoreCase(path, ".json")) return PlaybookFormat::kJson;
  for (absl::string_view ext : {".textproto", ".txtpb", ".pbtxt"}) {
    if (absl::EndsWithIgnoreCase(path, ext)) return PlaybookFormat::kText;
  }
  for (absl::string_view ext : {".pb", ".binpb"}) {
    if (absl::EndsWithIgnoreCase(path, ext)) return PlaybookFormat::kBinary;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path,
      ": unknown Playbook format; use .yaml, .yml, .json, .textproto or .pb"));
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0)
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a file"));
  if (static_cast<size_t>(size) > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", size, " bytes; at most ", max_bytes, " are accepted"));
  }
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return text;
}

absl::StatusOr<PlaybookSource> ParsePlaybook(absl::string_view text,
                                             PlaybookFormat format,
                                             absl::string_view file) {
  PlaybookSource source;
  source.file = std::string(file);
  ProblemList problems(nullptr, file);
  if (text.size() > kMaxPlaybookBytes) {
    problems.Add(
        "", absl::StrCat("the Playbook is ", text.size(), " bytes; at most ",
                         kMaxPlaybookBytes, " are accepted"));
    return problems.ToStatus("the Playbook cannot be read");
  }
  switch (format) {
    case PlaybookFormat::kYaml:
    case PlaybookFormat::kJson:
      // JSON is YAML, and reading it the same way gives line and column.
      ParseYamlMessage(text, &source.playbook, &problems, &source.positions);
      break;
    case PlaybookFormat::kText: {
      google::protobuf::TextFormat::Parser parser;
      TextErrorCollector collector(&problems);
      parser.RecordErrorsTo(&collector);
      google::protobuf::io::ArrayInputStream input(
          text.data(), static_cast<int>(text.size()));
      if (!parser.Parse(&input, &source.playbook) && problems.empty()) {
        problems.Add("", "not a valid protobuf text Playbook");
      }
      break;
    }
    case PlaybookFormat::kBinary:
      if (!source.playbook.ParseFromArray(text.data(),
                                          static_cast<int>(text.size()))) {
        problems.Add("", "not a valid binary Playbook");
      }
      break;
  }
  if (!problems.empty())
    return problems.ToStatus("the Playbook cannot be read");
  return source;
}

absl::StatusOr<PlaybookSource> LoadPlaybookFile(const std::string& path) {
  absl::StatusOr<PlaybookFormat> format = PlaybookFormatFromPath(path);
  if (!format.ok()) return format.status();
  absl::StatusOr<std::string> text = ReadFileToString(path, kMaxPlaybookBytes);
  if (!text.ok()) return text.status();
  return ParsePlaybook(*text, *format, path);
}

}  // namespace smarketing
