// Structured logs: one line of key=value pairs per event on standard error,
// for machines first. Callers log identifiers (lead ids, versions, role
// names), never personal data (names, e-mails, phone numbers) nor tokens.
#ifndef SMARKETING_GRPC_SERVER_LOG_H_
#define SMARKETING_GRPC_SERVER_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace smarketing {

using LogField = std::pair<absl::string_view, std::string>;

// Writes "ts=... level=... event=... key=value..." atomically. Values with
// blanks, quotes, '=', backslashes or control characters are quoted, with
// backslashes, quotes and control characters escaped (\n, \r, \t, \xHH).
void Log(absl::string_view level, absl::string_view event,
         std::initializer_list<LogField> fields = {});

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_LOG_H_
