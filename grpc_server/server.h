// smarketing-server assembled: the store, the Playbooks, the services with
// health checking and reflection, on one listening address with or without
// TLS. The program and the tests start it the same way.
#ifndef SMARKETING_GRPC_SERVER_SERVER_H_
#define SMARKETING_GRPC_SERVER_SERVER_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc_server/auth.h"
#include "grpc_server/http_server.h"
#include "grpc_server/lead_desk.h"
#include "grpc_server/metrics.h"
#include "grpc_server/playbooks.h"
#include "grpc_server/rescorer.h"
#include "grpc_server/scheduler.h"
#include "grpc_server/services.h"
#include "grpc_server/webhooks.h"
#include "store/store.h"

namespace smarketing {

struct ServerOptions {
  // host:port; port 0 picks a free port (see Server::port).
  std::string listen = "127.0.0.1:50051";
  // The SQLite database file, created when missing, or the URL of a
  // PostgreSQL database (postgresql://...) shared by several replicas.
  std::string store_path = "smarketing.db";
  // PEM files. With a certificate and key the server speaks TLS only; with
  // a client CA as well it requires client certificates signed by it.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // Bearer tokens and their roles (see TokenTable). Required.
  std::string token_file;
  // A Playbook file published and activated when the store has none.
  std::string demo_playbook;
  // Largest request or response accepted: a ScoreLeads request of the
  // most leads it takes, with their events, is about 18 MB.
  int max_message_bytes = 32 << 20;
  // The SLA scheduler: off for replicas that must not act.
  bool scheduler = true;
  // How often the scheduler looks for due steps and queued leads.
  absl::Duration scheduler_tick = absl::Seconds(10);
  // Rescoring in the background (see Rescorer), with the scheduler: a
  // replica that must not act rescores nothing either. Leads per batch,
  // and how often the periodic refresh runs (zero: never).
  int rescore_batch = 1000;
  absl::Duration refresh_interval = absl::Hours(24);
  // Webhook delivery, with the scheduler too (see WebhookOptions).
  WebhookOptions webhooks;
  // The scheduler's and the rescoring's clock; absl::Now when unset. Tests
  // move it by hand.
  std::function<absl::Time()> clock;
  // host:port of the HTTP listener (/review, /metrics, /healthz); none
  // when empty. Uses the TLS files above when they are set.
  std::string http_listen;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options);
  ~Server();

  // The port listened on.
  int port() const { return port_; }
  // The HTTP listener's port; 0 without one.
  int http_port() const { return http_ != nullptr ? http_->port() : 0; }

  // Stops accepting calls, lets the calls in flight finish until `grace`
  // has passed, then cancels the rest.
  void Shutdown(absl::Duration grace);

  // The SLA scheduler; nullptr when off.
  Scheduler* scheduler() { return scheduler_.get(); }
  // Rescoring; nullptr when the scheduler is off.
  Rescorer* rescorer() { return rescorer_.get(); }
  WebhookDeliverer* webhooks() { return webhooks_.get(); }

 private:
  Server() = default;

  // Start's steps: the store and what stands on it, the scheduler's and
  // webhooks' workers (not started), the services, the gRPC listener.
  absl::Status OpenStore(const ServerOptions& options);
  absl::Status CreateBackgroundWork(const ServerOptions& options);
  void CreateServices();
  absl::Status Listen(
      const ServerOptions& options,
      const std::shared_ptr<grpc::ServerCredentials>& credentials);

  // Before the store, which reports into it, and the listeners.
  ServiceMetrics metrics_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Playbooks> playbooks_;
  std::unique_ptr<ChangeFeed> feed_;
  std::unique_ptr<LeadDesk> leads_;
  TokenTable tokens_;
  std::unique_ptr<ScoringServiceImpl> scoring_;
  std::unique_ptr<PlaybookServiceImpl> playbook_service_;
  std::unique_ptr<LeadServiceImpl> lead_service_;
  std::unique_ptr<ReportServiceImpl> report_;
  std::unique_ptr<TeamServiceImpl> team_service_;
  std::unique_ptr<WebhookServiceImpl> webhook_service_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<Rescorer> rescorer_;
  // Always there for the WebhookService; delivers only with the scheduler.
  std::unique_ptr<WebhookDeliverer> webhooks_;
  int port_ = 0;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_SERVER_H_
