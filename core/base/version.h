// The version of smarketing, from the repository's VERSION file: what
// `smarketing --version`, `smarketing-server --version` and
// `smarketing.__version__` print.
#ifndef SMARKETING_CORE_BASE_VERSION_H_
#define SMARKETING_CORE_BASE_VERSION_H_

#include "absl/strings/string_view.h"

namespace smarketing {

absl::string_view Version();

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_VERSION_H_
