#include "grpc_server/log.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace smarketing {
namespace {

// Control characters (a lead id may hold any) are escaped, so that a
// value can neither end the line nor forge another.
void Append(std::string* line, absl::string_view key, absl::string_view value) {
  const bool quote =
      value.empty() || std::any_of(value.begin(), value.end(), [](char c) {
        return c == ' ' || c == '"' || c == '=' || c == '\\' ||
               absl::ascii_iscntrl(static_cast<unsigned char>(c));
      });
  absl::StrAppend(line, " ", key, "=");
  if (!quote) {
    absl::StrAppend(line, value);
    return;
  }
  line->push_back('"');
  for (char c : value) {
    switch (c) {
      case '\\':
        *line += "\\\\";
        break;
      case '"':
        *line += "\\\"";
        break;
      case '\n':
        *line += "\\n";
        break;
      case '\r':
        *line += "\\r";
        break;
      case '\t':
        *line += "\\t";
        break;
      default:
        if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
          absl::StrAppend(
              line, "\\x",
              absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          line->push_back(c);
        }
    }
  }
  line->push_back('"');
}

}  // namespace

void Log(absl::string_view level, absl::string_view event,
         std::initializer_list<LogField> fields) {
  std::string line =
      absl::StrCat("ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
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
