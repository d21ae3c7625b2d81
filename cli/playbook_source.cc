#include "cli/playbook_source.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace smarketing::cli {
namespace {

// Bytes kept of git's error output.
constexpr size_t kMaxErrorBytes = 4096;

// Runs `git show SPEC` (without a shell: SPEC is never interpreted) and
// returns what it printed.
absl::StatusOr<std::string> GitShow(const std::string& spec) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    return absl::InternalError("pipe failed");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return absl::InternalError("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  // --no-textconv: the bytes committed, not a filter's rendering of them.
  std::vector<std::string> args = {"git", "show", "--no-textconv", spec};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  const int spawned =
      ::posix_spawnp(&pid, "git", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return absl::FailedPreconditionError(
        absl::StrCat(spec, ": cannot run git: ", std::strerror(spawned)));
  }
  // Both pipes are drained together so that neither can fill and block git.
  std::string out, err;
  bool too_large = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (pollfd& fd : fds) {
      if (fd.fd < 0 || (fd.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
        continue;
      const ssize_t n = ::read(fd.fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd.fd);
        fd.fd = -1;
        --open_fds;
        continue;
      }
      if (&fd == &fds[0]) {
        if (out.size() + n > kMaxPlaybookBytes) {
          too_large = true;
        } else {
          out.append(buffer, n);
        }
      } else if (err.size() < kMaxErrorBytes) {
        err.append(buffer, std::min<size_t>(n, kMaxErrorBytes - err.size()));
      }
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return absl::NotFoundError(absl::StrCat(
        spec, ": git show failed: ", absl::StripAsciiWhitespace(err)));
  }
  if (too_large) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec, ": more than ", kMaxPlaybookBytes, " bytes"));
  }
  return out;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

absl::StatusOr<PlaybookSource> ReadPlaybookArgument(const std::string& arg) {
  const size_t colon = arg.find(':');
  if (FileExists(arg) || colon == std::string::npos || colon == 0) {
    return LoadPlaybookFile(arg);
  }
  const std::string path = arg.substr(colon + 1);
  absl::StatusOr<PlaybookFormat> format = PlaybookFormatFromPath(path);
  if (!format.ok()) return format.status();
  absl::StatusOr<std::string> text = GitShow(arg);
  if (!text.ok()) return text.status();
  return ParsePlaybook(*text, *format, arg);
}

}  // namespace smarketing::cli
