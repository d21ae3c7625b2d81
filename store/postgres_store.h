// The store on a PostgreSQL server, shared by several smarketing-server
// replicas: the same schema and behaviour as the embedded SQLite store, with
// write transactions serialized across all replicas, Playbook activations
// announced to every replica (LISTEN/NOTIFY) and leases for the work only
// one replica may do at a time.
#ifndef SMARKETING_STORE_POSTGRES_STORE_H_
#define SMARKETING_STORE_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "store/store.h"

namespace smarketing {

// Whether `store` names a PostgreSQL database (postgresql:// or
// postgres://) rather than an SQLite file.
bool IsPostgresUrl(absl::string_view store);

// Connects to the database at `url` (a libpq connection URI) and creates or
// migrates its schema. UNAVAILABLE when the server cannot be reached;
// FAILED_PRECONDITION when the database cannot hold the store (not UTF8, a
// newer schema). Error messages never repeat the URL, which may hold a
// password.
absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const std::string& url);

}  // namespace smarketing

#endif  // SMARKETING_STORE_POSTGRES_STORE_H_
