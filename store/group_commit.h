// Group commit, shared by the stores: a durable commit costs a disk sync
// (SQLite) or a WAL flush on the server (PostgreSQL), so writes that arrive
// while a group is being committed wait, and the first of them then runs
// them all in one transaction, each inside its own savepoint so that a
// refused write is rolled back alone. One commit acknowledges the group.
// Each store supplies how its database begins, marks, commits and rolls
// back a group's transaction (GroupTransaction).
#ifndef SMARKETING_STORE_GROUP_COMMIT_H_
#define SMARKETING_STORE_GROUP_COMMIT_H_

#include <condition_variable>
#include <mutex>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "store/store.h"

namespace smarketing {

// The steps of one group's transaction on a database, in the order
// GroupCommit calls them: Begin, then for each write of a group of several
// Savepoint and EndSavepoint around it, then Commit, or Rollback when the
// group is given up. A step's failure is its status; none throws.
class GroupTransaction {
 public:
  virtual ~GroupTransaction() = default;

  // Opens the transaction; when it fails no write of the group runs.
  virtual absl::Status Begin() = 0;
  // Where the writes run, valid from Begin to Commit or Rollback.
  virtual StoreTransaction& Transaction() = 0;
  virtual absl::Status Savepoint() = 0;
  // Ends the savepoint, keeping what the write did, or rolling it back
  // first when `keep` is false. A failure gives up on the whole group: the
  // savepoint's fate is unknown.
  virtual absl::Status EndSavepoint(bool keep) = 0;
  virtual absl::Status Commit() = 0;
  virtual void Rollback() = 0;
};

class GroupCommit {
 public:
  using WriteFn = absl::FunctionRef<absl::Status(StoreTransaction&)>;

  // The writes of one group, as the thread that commits it sees them.
  class Group {
   public:
    // Runs every write of the group in one transaction of `steps`: each
    // gets the status of its function, or the group's failure to begin or
    // commit. A write alone in its group needs no savepoint: a refusal
    // rolls the transaction back.
    void CommitWith(GroupTransaction& steps) const;

   private:
    friend class GroupCommit;
    struct Pending;
    explicit Group(const std::vector<Pending*>& writes) : writes_(writes) {}
    const std::vector<Pending*>& writes_;
  };

  // Runs `fn` in the next group and returns its status once the group is
  // committed (or given up). When this thread commits the group, it calls
  // `commit_group` with it, which holds what the store needs held while a
  // group commits and calls Group::CommitWith.
  absl::Status Write(WriteFn fn,
                     absl::FunctionRef<void(const Group&)> commit_group);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  // Writes waiting for the next group.
  std::vector<Group::Pending*> queue_;
  bool committing_ = false;
};

}  // namespace smarketing

#endif  // SMARKETING_STORE_GROUP_COMMIT_H_
