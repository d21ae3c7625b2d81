// The gRPC services: thin adapters that authenticate the call, turn the
// request into calls on the core, the Playbooks and the LeadDesk, and the
// results back into responses. Every status leaves through ToGrpcStatus.
#ifndef SMARKETING_GRPC_SERVER_SERVICES_H_
#define SMARKETING_GRPC_SERVER_SERVICES_H_

#include <grpcpp/support/message_allocator.h>

#include "grpc_server/auth.h"
#include "grpc_server/change_feed.h"
#include "grpc_server/lead_desk.h"
#include "grpc_server/playbooks.h"
#include "grpc_server/rescorer.h"
#include "grpc_server/webhooks.h"
#include "smarketing/v1/lead_service.grpc.pb.h"
#include "smarketing/v1/playbook_service.grpc.pb.h"
#include "smarketing/v1/report_service.grpc.pb.h"
#include "smarketing/v1/scoring_service.grpc.pb.h"
#include "smarketing/v1/team_service.grpc.pb.h"
#include "smarketing/v1/webhook_service.grpc.pb.h"
#include "store/store.h"

namespace smarketing {

// What the services share; owned by the server.
struct ServiceDeps {
  Store* store = nullptr;
  Playbooks* playbooks = nullptr;
  LeadDesk* leads = nullptr;
  const TokenTable* tokens = nullptr;
  ChangeFeed* feed = nullptr;
  // Told when a version is activated; nullptr when passes are off.
  Rescorer* rescorer = nullptr;
  WebhookDeliverer* webhooks = nullptr;
};

// ScoreLead's request and response on an arena per call: parsing a lead
// with its events and writing the explanation take one allocation instead
// of dozens of mallocs and frees.
class ScoreLeadArenaAllocator final
    : public grpc::MessageAllocator<v1::ScoreLeadRequest,
                                    v1::ScoreLeadResponse> {
 public:
  grpc::MessageHolder<v1::ScoreLeadRequest, v1::ScoreLeadResponse>*
  AllocateMessages() override;
};

// ScoreLead takes a few microseconds: it runs as a callback on gRPC's own
// threads, sparing the hand-off to a worker thread that would cost more
// than the scoring.
// ScoreLeads takes its requests as bytes, so that their leads are read flat
// from their encoding (core/leads/lead_wire.h).
class ScoringServiceImpl final
    : public v1::ScoringService::WithCallbackMethod_ScoreLead<
          v1::ScoringService::WithRawCallbackMethod_ScoreLeads<
              v1::ScoringService::Service>> {
 public:
  explicit ScoringServiceImpl(ServiceDeps deps) : deps_(deps) {
    SetMessageAllocatorFor_ScoreLead(&allocator_);
  }
  grpc::ServerUnaryReactor* ScoreLead(grpc::CallbackServerContext* context,
                                      const v1::ScoreLeadRequest* request,
                                      v1::ScoreLeadResponse* response) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ScoreLeads(
      grpc::CallbackServerContext* context) override;
  grpc::Status ExplainLead(grpc::ServerContext* context,
                           const v1::ExplainLeadRequest* request,
                           v1::ExplainLeadResponse* response) override;

 private:
  ServiceDeps deps_;
  ScoreLeadArenaAllocator allocator_;
};

class PlaybookServiceImpl final : public v1::PlaybookService::Service {
 public:
  explicit PlaybookServiceImpl(ServiceDeps deps) : deps_(deps) {}
  grpc::Status ValidatePlaybook(
      grpc::ServerContext* context, const v1::ValidatePlaybookRequest* request,
      v1::ValidatePlaybookResponse* response) override;
  grpc::Status PublishPlaybook(grpc::ServerContext* context,
                               const v1::PublishPlaybookRequest* request,
                               v1::PublishPlaybookResponse* response) override;
  grpc::Status ActivatePlaybook(
      grpc::ServerContext* context, const v1::ActivatePlaybookRequest* request,
      v1::ActivatePlaybookResponse* response) override;
  grpc::Status GetPlaybook(grpc::ServerContext* context,
                           const v1::GetPlaybookRequest* request,
                           v1::GetPlaybookResponse* response) override;
  grpc::Status ListPlaybookVersions(
      grpc::ServerContext* context,
      const v1::ListPlaybookVersionsRequest* request,
      v1::ListPlaybookVersionsResponse* response) override;
  grpc::Status GetRescoreStatus(
      grpc::ServerContext* context, const v1::GetRescoreStatusRequest* request,
      v1::GetRescoreStatusResponse* response) override;

 private:
  ServiceDeps deps_;
};

class LeadServiceImpl final : public v1::LeadService::Service {
 public:
  explicit LeadServiceImpl(ServiceDeps deps) : deps_(deps) {}
  grpc::Status UpsertLead(grpc::ServerContext* context,
                          const v1::UpsertLeadRequest* request,
                          v1::UpsertLeadResponse* response) override;
  grpc::Status RecordEvents(grpc::ServerContext* context,
                            const v1::RecordEventsRequest* request,
                            v1::RecordEventsResponse* response) override;
  grpc::Status StreamEvents(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::RecordEventsResponse,
                               v1::RecordEventsRequest>* stream) override;
  grpc::Status GetLead(grpc::ServerContext* context,
                       const v1::GetLeadRequest* request,
                       v1::GetLeadResponse* response) override;
  grpc::Status ListLeads(grpc::ServerContext* context,
                         const v1::ListLeadsRequest* request,
                         v1::ListLeadsResponse* response) override;
  grpc::Status RecordFeedback(grpc::ServerContext* context,
                              const v1::RecordFeedbackRequest* request,
                              v1::RecordFeedbackResponse* response) override;
  grpc::Status TransitionLead(grpc::ServerContext* context,
                              const v1::TransitionLeadRequest* request,
                              v1::TransitionLeadResponse* response) override;
  grpc::Status RecordFirstTouch(
      grpc::ServerContext* context, const v1::RecordFirstTouchRequest* request,
      v1::RecordFirstTouchResponse* response) override;
  grpc::Status EraseLead(grpc::ServerContext* context,
                         const v1::EraseLeadRequest* request,
                         v1::EraseLeadResponse* response) override;
  // The change feed (change_service.cc).
  grpc::Status ListChanges(grpc::ServerContext* context,
                           const v1::ListChangesRequest* request,
                           v1::ListChangesResponse* response) override;
  grpc::Status WatchChanges(grpc::ServerContext* context,
                            const v1::WatchChangesRequest* request,
                            grpc::ServerWriter<v1::Change>* writer) override;
  // Accounts (account_service.cc).
  grpc::Status GetAccount(grpc::ServerContext* context,
                          const v1::GetAccountRequest* request,
                          v1::GetAccountResponse* response) override;
  grpc::Status ListAccounts(grpc::ServerContext* context,
                            const v1::ListAccountsRequest* request,
                            v1::ListAccountsResponse* response) override;
  // Bulk import (import_service.cc).
  grpc::Status ImportLeads(grpc::ServerContext* context,
                           grpc::ServerReader<v1::ImportLeadsRequest>* reader,
                           v1::ImportLeadsResponse* response) override;

 private:
  ServiceDeps deps_;
};

class ReportServiceImpl final : public v1::ReportService::Service {
 public:
  explicit ReportServiceImpl(ServiceDeps deps) : deps_(deps) {}
  grpc::Status ListSlaLeads(grpc::ServerContext* context,
                            const v1::ListSlaLeadsRequest* request,
                            v1::ListSlaLeadsResponse* response) override;
  grpc::Status GetClosedLoopReport(
      grpc::ServerContext* context,
      const v1::GetClosedLoopReportRequest* request,
      v1::GetClosedLoopReportResponse* response) override;
  grpc::Status GetReview(grpc::ServerContext* context,
                         const v1::GetReviewRequest* request,
                         v1::GetReviewResponse* response) override;

 private:
  ServiceDeps deps_;
};

// People changes (team_service.cc).
class TeamServiceImpl final : public v1::TeamService::Service {
 public:
  explicit TeamServiceImpl(ServiceDeps deps) : deps_(deps) {}
  grpc::Status SetMemberStatus(grpc::ServerContext* context,
                               const v1::SetMemberStatusRequest* request,
                               v1::SetMemberStatusResponse* response) override;
  grpc::Status GetMemberStatus(grpc::ServerContext* context,
                               const v1::GetMemberStatusRequest* request,
                               v1::GetMemberStatusResponse* response) override;
  grpc::Status SetAccountOwners(
      grpc::ServerContext* context, const v1::SetAccountOwnersRequest* request,
      v1::SetAccountOwnersResponse* response) override;

 private:
  ServiceDeps deps_;
};

// Webhook subscriptions and dead letters (webhook_service.cc).
class WebhookServiceImpl final : public v1::WebhookService::Service {
 public:
  explicit WebhookServiceImpl(ServiceDeps deps) : deps_(deps) {}
  grpc::Status CreateWebhook(grpc::ServerContext* context,
                             const v1::CreateWebhookRequest* request,
                             v1::CreateWebhookResponse* response) override;
  grpc::Status ListWebhooks(grpc::ServerContext* context,
                            const v1::ListWebhooksRequest* request,
                            v1::ListWebhooksResponse* response) override;
  grpc::Status DeleteWebhook(grpc::ServerContext* context,
                             const v1::DeleteWebhookRequest* request,
                             v1::DeleteWebhookResponse* response) override;
  grpc::Status ListDeadLetters(grpc::ServerContext* context,
                               const v1::ListDeadLettersRequest* request,
                               v1::ListDeadLettersResponse* response) override;
  grpc::Status ReplayDeadLetter(
      grpc::ServerContext* context, const v1::ReplayDeadLetterRequest* request,
      v1::ReplayDeadLetterResponse* response) override;

 private:
  ServiceDeps deps_;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_SERVICES_H_
