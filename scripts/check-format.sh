#!/usr/bin/env bash
# Checks every C++ file of the repository against .clang-format (Google's
# style) and names the files that differ. To fix them:
#   git ls-files '*.cc' '*.h' | xargs clang-format-14 -i
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=$(command -v clang-format-14 || command -v clang-format)
git ls-files '*.cc' '*.h' | xargs "$clang_format" --dry-run -Werror
