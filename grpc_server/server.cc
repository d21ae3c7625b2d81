#include "grpc_server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/playbook_loader.h"
#include "grpc/health/v1/health.pb.h"
#include "grpc_server/log.h"
#include "grpc_server/request_errors.h"
#include "store/postgres_store.h"

namespace smarketing {
namespace {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServerOptions& options) {
  if (options.tls_cert.empty() && options.tls_key.empty()) {
    if (!options.tls_client_ca.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca needs --tls_cert and --tls_key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_cert.empty() || options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  constexpr size_t kMaxPem = 1 << 20;
  grpc::SslServerCredentialsOptions ssl;
  auto cert = ReadFileToString(options.tls_cert, kMaxPem);
  if (!cert.ok()) return cert.status();
  auto key = ReadFileToString(options.tls_key, kMaxPem);
  if (!key.ok()) return key.status();
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!options.tls_client_ca.empty()) {
    auto ca = ReadFileToString(options.tls_client_ca, kMaxPem);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

// Publishes and activates the demo Playbook when no version is active, so
// that a new store works out of the box.
absl::Status PublishDemo(const std::string& path, Store& store,
                         Playbooks& playbooks) {
  auto active = store.GetPlaybook(0);
  if (active.ok() || path.empty()) return absl::OkStatus();
  if (!absl::IsNotFound(active.status())) return active.status();
  auto source = LoadPlaybookFile(path);
  if (!source.ok()) return source.status();
  auto engine =
      LeadEngine::Create(source->playbook, &source->positions, source->file);
  if (!engine.ok()) return engine.status();
  auto record = playbooks.Publish(*std::move(engine), "smarketing-server",
                                  /*activate=*/true);
  if (!record.ok()) return record.status();
  Log("info", "demo_playbook_published",
      {{"number", absl::StrCat(record->number)}, {"label", record->label}});
  return absl::OkStatus();
}

// The settings a reader of the log needs to tell one server from another.
void LogStarted(const ServerOptions& options, int port, size_t tokens) {
  Log("info", "server_started",
      {{"listen", options.listen},
       {"port", absl::StrCat(port)},
       {"tls", options.tls_cert.empty()        ? "off"
               : options.tls_client_ca.empty() ? "on"
                                               : "mutual"},
       {"tokens", absl::StrCat(tokens)},
       {"scheduler", options.scheduler
                         ? absl::FormatDuration(options.scheduler_tick)
                         : "off"},
       {"refresh", !options.scheduler ? "off"
                   : options.refresh_interval == absl::ZeroDuration()
                       ? "off"
                       : absl::FormatDuration(options.refresh_interval)}});
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server());
  if (options.token_file.empty()) {
    return absl::InvalidArgumentError(
        "--token_file is required: every call needs a bearer token");
  }
  auto tokens = TokenTable::Load(options.token_file);
  if (!tokens.ok()) return tokens.status();
  server->tokens_ = *std::move(tokens);
  auto credentials = Credentials(options);
  if (!credentials.ok()) return credentials.status();
  if (auto st = server->OpenStore(options); !st.ok()) return st;
  if (auto st = server->CreateBackgroundWork(options); !st.ok()) return st;
  server->CreateServices();
  if (auto st = server->Listen(options, *credentials); !st.ok()) return st;
  if (server->scheduler_ != nullptr) {
    server->scheduler_->Start(options.scheduler_tick);
    server->rescorer_->Start();
    server->webhooks_->Start();
  }
  if (!options.http_listen.empty()) {
    auto http =
        HttpServer::Start({options.http_listen, options.tls_cert,
                           options.tls_key, options.tls_client_ca},
                          {server->store_.get(), server->playbooks_.get(),
                           &server->tokens_, &server->metrics_});
    if (!http.ok()) return http.status();
    server->http_ = *std::move(http);
  }
  LogStarted(options, server->port_, server->tokens_.size());
  return server;
}

absl::Status Server::OpenStore(const ServerOptions& options) {
  auto store = IsPostgresUrl(options.store_path)
                   ? OpenPostgresStore(options.store_path)
                   : OpenSqliteStore(options.store_path);
  if (!store.ok()) return store.status();
  store_ = TimedStore(*std::move(store), &metrics_);
  playbooks_ = std::make_unique<Playbooks>(store_.get());
  feed_ = std::make_unique<ChangeFeed>(store_.get());
  leads_ =
      std::make_unique<LeadDesk>(store_.get(), playbooks_.get(), feed_.get());
  return PublishDemo(options.demo_playbook, *store_, *playbooks_);
}

absl::Status Server::CreateBackgroundWork(const ServerOptions& options) {
  if (options.webhooks.timeout <= absl::ZeroDuration() ||
      options.webhooks.retry_base <= absl::ZeroDuration() ||
      options.webhooks.tick <= absl::ZeroDuration() ||
      options.webhooks.max_attempts <= 0) {
    return absl::InvalidArgumentError(
        "--webhook_timeout, --webhook_retry_base, --webhook_tick and "
        "--webhook_max_attempts must be positive");
  }
  std::function<absl::Time()> clock = options.clock;
  if (!clock) clock = [] { return absl::Now(); };
  webhooks_ =
      std::make_unique<WebhookDeliverer>(store_.get(), clock, options.webhooks);
  if (!options.scheduler) return absl::OkStatus();
  if (options.scheduler_tick <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--scheduler_tick must be positive");
  }
  if (options.rescore_batch <= 0) {
    return absl::InvalidArgumentError("--rescore_batch must be positive");
  }
  if (options.refresh_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--refresh_interval must not be negative");
  }
  scheduler_ = std::make_unique<Scheduler>(store_.get(), leads_.get(), clock);
  rescorer_ = std::make_unique<Rescorer>(
      store_.get(), playbooks_.get(), leads_.get(), clock,
      RescorerOptions{options.rescore_batch, options.refresh_interval,
                      options.scheduler_tick});
  return absl::OkStatus();
}

void Server::CreateServices() {
  const ServiceDeps deps{store_.get(),   playbooks_.get(), leads_.get(),
                         &tokens_,       feed_.get(),      rescorer_.get(),
                         webhooks_.get()};
  scoring_ = std::make_unique<ScoringServiceImpl>(deps);
  playbook_service_ = std::make_unique<PlaybookServiceImpl>(deps);
  lead_service_ = std::make_unique<LeadServiceImpl>(deps);
  report_ = std::make_unique<ReportServiceImpl>(deps);
  team_service_ = std::make_unique<TeamServiceImpl>(deps);
  webhook_service_ = std::make_unique<WebhookServiceImpl>(deps);
}

absl::Status Server::Listen(
    const ServerOptions& options,
    const std::shared_ptr<grpc::ServerCredentials>& credentials) {
  grpc::EnableDefaultHealthCheckService(true);
  // gRPC's health service registers no descriptors; naming one of these
  // messages links them in, so that reflection describes the service.
  grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &port_);
  // gRPC sets SO_REUSEPORT by default: a second server on a port in use
  // would start and take part of the traffic, with a store of its own.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(scoring_.get());
  builder.RegisterService(playbook_service_.get());
  builder.RegisterService(lead_service_.get());
  builder.RegisterService(report_.get());
  builder.RegisterService(team_service_.get());
  builder.RegisterService(webhook_service_.get());
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(UndecodableRequestInterceptors());
  interceptors.push_back(MetricsInterceptorFactory(&metrics_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen,
        ": the address is in use (another server?) or not valid here"));
  }
  // Health checks may name a service, as load balancers and Kubernetes'
  // gRPC probes do.
  for (const char* service : {v1::ScoringService::service_full_name(),
                              v1::PlaybookService::service_full_name(),
                              v1::LeadService::service_full_name(),
                              v1::ReportService::service_full_name(),
                              v1::TeamService::service_full_name(),
                              v1::WebhookService::service_full_name()}) {
    server_->GetHealthCheckService()->SetServingStatus(service, true);
  }
  return absl::OkStatus();
}

Server::~Server() {
  if (server_ != nullptr) Shutdown(absl::ZeroDuration());
}

void Server::Shutdown(absl::Duration grace) {
  if (scheduler_ != nullptr) scheduler_->Stop();
  if (rescorer_ != nullptr) rescorer_->Stop();
  if (webhooks_ != nullptr) webhooks_->Stop();
  if (http_ != nullptr) http_->Stop();
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoNanoseconds(grace));
  server_->Wait();
  server_.reset();
  Log("info", "server_stopped");
}

}  // namespace smarketing
