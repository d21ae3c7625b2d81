// The service's own figures for /metrics: calls and latency per RPC and
// status code (a gRPC interceptor), store write latency and events ingested
// (a Store decorator), and leads per stage and SLA breaches (counted from
// the store at most every 30 seconds, so that frequent scrapes of a large
// store cost nothing).
#ifndef SMARKETING_GRPC_SERVER_METRICS_H_
#define SMARKETING_GRPC_SERVER_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "grpc_server/playbooks.h"
#include "grpc_server/prometheus_text.h"
#include "store/store.h"

namespace smarketing {

class ServiceMetrics {
 public:
  ServiceMetrics();

  void ObserveRpc(const std::string& method, const std::string& code,
                  absl::Duration latency);
  void ObserveStoreWrite(absl::Duration latency, bool committed,
                         int64_t new_events);

  // The exposition; leads per stage and SLA breaches are read from `store`
  // with the active Playbook of `playbooks` when the last count is older
  // than 30 seconds.
  std::string Render(Store& store, Playbooks& playbooks);

 private:
  struct Rpc {
    uint64_t calls = 0;
    Histogram latency;
  };
  std::mutex mu_;
  // By method, then status code name.
  std::map<std::pair<std::string, std::string>, Rpc> rpcs_;
  Histogram store_writes_;
  uint64_t store_write_failures_ = 0;
  uint64_t events_ingested_ = 0;
  // The lead counts and when they were taken.
  std::mutex leads_mu_;
  absl::Time leads_counted_at_ = absl::InfinitePast();
  std::map<std::string, int64_t> leads_by_stage_;
  int64_t sla_breaches_ = 0;
};

// Times every call of the server into `metrics`, by method and status.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MetricsInterceptorFactory(ServiceMetrics* metrics);

// `store` with its write transactions timed and the new events they stored
// counted into `metrics`.
std::unique_ptr<Store> TimedStore(std::unique_ptr<Store> store,
                                  ServiceMetrics* metrics);

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_METRICS_H_
