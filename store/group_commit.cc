#include "store/group_commit.h"

namespace smarketing {

struct GroupCommit::Group::Pending {
  explicit Pending(WriteFn f) : fn(f) {}
  WriteFn fn;
  absl::Status status;
  bool done = false;
};

void GroupCommit::Group::CommitWith(GroupTransaction& steps) const {
  if (absl::Status begin = steps.Begin(); !begin.ok()) {
    for (Pending* write : writes_) write->status = begin;
    return;
  }
  absl::Status commit;
  if (writes_.size() == 1) {
    Pending& alone = *writes_.front();
    alone.status = alone.fn(steps.Transaction());
    if (!alone.status.ok()) {
      steps.Rollback();
      return;
    }
  } else {
    for (Pending* write : writes_) {
      absl::Status st = steps.Savepoint();
      if (st.ok()) st = write->fn(steps.Transaction());
      const absl::Status end = steps.EndSavepoint(/*keep=*/st.ok());
      write->status = st;
      if (!end.ok()) {
        commit = end;
        break;
      }
    }
  }
  if (commit.ok()) commit = steps.Commit();
  if (!commit.ok()) {
    steps.Rollback();
    for (Pending* write : writes_) {
      if (write->status.ok()) write->status = commit;
    }
  }
}

absl::Status GroupCommit::Write(
    WriteFn fn, absl::FunctionRef<void(const Group&)> commit_group) {
  Group::Pending me(fn);
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&me);
  cv_.wait(lock, [&] { return me.done || !committing_; });
  if (me.done) return me.status;
  committing_ = true;
  std::vector<Group::Pending*> group;
  group.swap(queue_);
  lock.unlock();
  commit_group(Group(group));
  lock.lock();
  for (Group::Pending* write : group) write->done = true;
  committing_ = false;
  cv_.notify_all();
  return me.status;
}

}  // namespace smarketing
