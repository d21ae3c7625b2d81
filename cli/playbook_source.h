// Where the command line reads a Playbook from: a file, or a git revision of
// a file as a reviewer names it ("main:playbooks/prod.yaml", "HEAD~1:x.yaml",
// read with `git show`), so that CI compares a pull request with its base.
#ifndef SMARKETING_CLI_PLAYBOOK_SOURCE_H_
#define SMARKETING_CLI_PLAYBOOK_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/playbook/playbook_loader.h"

namespace smarketing::cli {

// An existing file is read as a file. Otherwise an argument of the form
// REV:PATH is read with `git show REV:PATH` in the current directory (PATH
// is relative to the repository's root, or to the current directory when
// it starts with "./"); its format comes from PATH's extension. Problems
// are located in `arg` ("main:playbooks/prod.yaml:12:5: ..."). NOT_FOUND or
// FAILED_PRECONDITION (with git's message) when it cannot be read;
// INVALID_ARGUMENT with the problems when it does not parse.
absl::StatusOr<PlaybookSource> ReadPlaybookArgument(const std::string& arg);

}  // namespace smarketing::cli

#endif  // SMARKETING_CLI_PLAYBOOK_SOURCE_H_
