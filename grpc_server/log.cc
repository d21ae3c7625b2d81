#include "grpc_server/log.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace smarketing {
namespace {

void Append(std::string* line, absl::string_view key, absl::string_view value) {
  const bool quote =
      value.empty() || value.find_first_of(" \t\n\"=") != absl::string_view::npos;
  absl::StrAppend(line, " ", key, "=");
  if (!quote) {
    absl::StrAppend(line, value);
    return;
  }
  absl::StrAppend(line, "\"",
                  absl::StrReplaceAll(value, {{"\\", "\\\\"},
                                              {"\"", "\\\""},
                                              {"\n", "\\n"}}),
                  "\"");
}

}  // namespace

void Log(absl::string_view level, absl::string_view event,
         std::initializer_list<LogField> fields) {
  std::string line = absl::StrCat(
      "ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                              absl::UTCTimeZone()));
  Append(&line, "level", level);
  Append(&line, "event", event);
  for (const auto& [key, value] : fields) Append(&line, key, value);
  line += '\n';
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace smarketing
