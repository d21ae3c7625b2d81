#include "core/base/version.h"

namespace smarketing {

absl::string_view Version() { return SMARKETING_VERSION; }

}  // namespace smarketing
