#include "grpc_server/metrics.h"

#include <grpcpp/support/interceptor.h>

#include <vector>

#include "absl/time/clock.h"
#include "core/base/enum_label.h"
#include "smarketing/v1/lifecycle.pb.h"

namespace smarketing {
namespace {

// Seconds: from a cached score (sub-millisecond) to a review of a large
// store.
std::vector<double> LatencyBounds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
}

constexpr absl::Duration kLeadCountTtl = absl::Seconds(30);
constexpr int kScanPage = 1000;

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(ServiceMetrics* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->ObserveRpc(method_,
                           CodeName(methods->GetSendStatus().error_code()),
                           absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  ServiceMetrics* metrics_;
  std::string method_;
  absl::Time start_;
};

class MetricsInterceptorFactoryImpl final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactoryImpl(ServiceMetrics* metrics)
      : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method());
  }

 private:
  ServiceMetrics* metrics_;
};

// Counts the events a transaction stores for the first time.
class CountingTransaction final : public StoreTransaction {
 public:
  explicit CountingTransaction(StoreTransaction& inner) : inner_(inner) {}
  int64_t new_events() const { return new_events_; }

  absl::StatusOr<std::optional<StoredLead>> GetLead(
      absl::string_view lead_id) override {
    return inner_.GetLead(lead_id);
  }
  absl::Status PutLead(const StoredLead& lead) override {
    return inner_.PutLead(lead);
  }
  absl::Status AddEvents(
      absl::string_view lead_id,
      const google::protobuf::RepeatedPtrField<v1::Event>& events,
      std::vector<bool>* stored) override {
    absl::Status st = inner_.AddEvents(lead_id, events, stored);
    if (st.ok()) {
      for (bool s : *stored) new_events_ += s ? 1 : 0;
    }
    return st;
  }
  absl::Status GetEvents(
      absl::string_view lead_id,
      google::protobuf::RepeatedPtrField<v1::Event>* events) override {
    return inner_.GetEvents(lead_id, events);
  }
  absl::Status GetLatestEvents(
      absl::string_view lead_id, int limit,
      google::protobuf::RepeatedPtrField<v1::Event>* events) override {
    return inner_.GetLatestEvents(lead_id, limit, events);
  }
  absl::StatusOr<int> CountEvents(absl::string_view lead_id) override {
    return inner_.CountEvents(lead_id);
  }
  absl::Status AddFeedback(const v1::Feedback& feedback) override {
    return inner_.AddFeedback(feedback);
  }
  absl::StatusOr<v1::RoutingState> GetRoutingState() override {
    return inner_.GetRoutingState();
  }
  absl::Status PutRoutingState(const v1::RoutingState& state) override {
    return inner_.PutRoutingState(state);
  }
  absl::StatusOr<int> EraseLead(absl::string_view lead_id) override {
    return inner_.EraseLead(lead_id);
  }
  absl::StatusOr<std::vector<AccountContactRow>> ListAccountContacts(
      absl::string_view account, int limit) override {
    return inner_.ListAccountContacts(account, limit);
  }
  absl::Status AppendChange(v1::Change* change) override {
    return inner_.AppendChange(change);
  }
  absl::Status SetSlaDue(absl::string_view lead_id, absl::Time due) override {
    return inner_.SetSlaDue(lead_id, due);
  }
  absl::Status AppendMemberAudit(
      const v1::MemberStatusChange& change) override {
    return inner_.AppendMemberAudit(change);
  }
  absl::StatusOr<std::optional<v1::RescoreStatus>> GetLatestRescore() override {
    return inner_.GetLatestRescore();
  }
  absl::Status PutRescore(const v1::RescoreStatus& status) override {
    return inner_.PutRescore(status);
  }
  absl::StatusOr<int64_t> CountLeads() override { return inner_.CountLeads(); }
  absl::StatusOr<int64_t> LatestChangeCursor() override {
    return inner_.LatestChangeCursor();
  }
  absl::StatusOr<std::vector<v1::WebhookSubscription>> ListWebhooks() override {
    return inner_.ListWebhooks();
  }
  absl::StatusOr<std::optional<v1::WebhookSubscription>> GetWebhook(
      absl::string_view id) override {
    return inner_.GetWebhook(id);
  }
  absl::Status PutWebhook(const v1::WebhookSubscription& webhook) override {
    return inner_.PutWebhook(webhook);
  }
  absl::Status DeleteWebhook(absl::string_view id) override {
    return inner_.DeleteWebhook(id);
  }
  absl::Status AddDeadLetter(const v1::DeadLetter& letter) override {
    return inner_.AddDeadLetter(letter);
  }
  absl::StatusOr<std::vector<v1::DeadLetter>> ListDeadLetters(
      absl::string_view subscription_id, int64_t after_cursor,
      int limit) override {
    return inner_.ListDeadLetters(subscription_id, after_cursor, limit);
  }
  absl::StatusOr<std::optional<v1::DeadLetter>> GetDeadLetter(
      absl::string_view delivery_id) override {
    return inner_.GetDeadLetter(delivery_id);
  }
  absl::Status DeleteDeadLetter(absl::string_view delivery_id) override {
    return inner_.DeleteDeadLetter(delivery_id);
  }

 private:
  StoreTransaction& inner_;
  int64_t new_events_ = 0;
};

class TimedStoreImpl final : public Store {
 public:
  TimedStoreImpl(std::unique_ptr<Store> inner, ServiceMetrics* metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  absl::Status Write(
      absl::FunctionRef<absl::Status(StoreTransaction&)> fn) override {
    int64_t new_events = 0;
    const absl::Time start = absl::Now();
    absl::Status st = inner_->Write([&](StoreTransaction& tx) {
      CountingTransaction counting(tx);
      absl::Status result = fn(counting);
      new_events = counting.new_events();
      return result;
    });
    metrics_->ObserveStoreWrite(absl::Now() - start, st.ok(),
                                st.ok() ? new_events : 0);
    return st;
  }
  absl::Status Read(
      absl::FunctionRef<absl::Status(StoreTransaction&)> fn) override {
    return inner_->Read(fn);
  }
  absl::StatusOr<std::vector<StoredLead>> ListLeads(const LeadFilter& filter,
                                                    absl::string_view after_id,
                                                    int limit) override {
    return inner_->ListLeads(filter, after_id, limit);
  }
  absl::StatusOr<std::vector<v1::Feedback>> ListFeedback(
      absl::string_view lead_id, int limit) override {
    return inner_->ListFeedback(lead_id, limit);
  }
  absl::StatusOr<PlaybookRecord> PublishPlaybook(const v1::Playbook& playbook,
                                                 absl::string_view published_by,
                                                 absl::Time published_at,
                                                 bool activate) override {
    return inner_->PublishPlaybook(playbook, published_by, published_at,
                                   activate);
  }
  absl::StatusOr<PlaybookRecord> ActivatePlaybook(
      int64_t number, int64_t expected_active, absl::string_view activated_by,
      absl::Time activated_at) override {
    return inner_->ActivatePlaybook(number, expected_active, activated_by,
                                    activated_at);
  }
  absl::StatusOr<std::vector<PlaybookActivation>> ListPlaybookActivations(
      absl::Time from, absl::Time to) override {
    return inner_->ListPlaybookActivations(from, to);
  }
  absl::StatusOr<PlaybookRecord> GetPlaybook(int64_t number) override {
    return inner_->GetPlaybook(number);
  }
  absl::StatusOr<std::vector<PlaybookRecord>> ListPlaybooks(
      int64_t before, int limit) override {
    return inner_->ListPlaybooks(before, limit);
  }
  absl::StatusOr<std::vector<v1::Change>> ListChanges(int64_t after_cursor,
                                                      int limit) override {
    return inner_->ListChanges(after_cursor, limit);
  }
  absl::StatusOr<std::vector<std::string>> ListSlaDue(absl::Time now,
                                                      int limit) override {
    return inner_->ListSlaDue(now, limit);
  }
  absl::StatusOr<std::vector<std::string>> ListQueuedLeads(
      absl::string_view after_id, int limit) override {
    return inner_->ListQueuedLeads(after_id, limit);
  }
  absl::StatusOr<std::vector<v1::MemberStatusChange>> ListMemberAudit(
      absl::string_view member_id, int limit) override {
    return inner_->ListMemberAudit(member_id, limit);
  }
  void WatchPlaybooks(std::function<void()> changed) override {
    inner_->WatchPlaybooks(std::move(changed));
  }
  absl::StatusOr<bool> HoldLease(absl::string_view name) override {
    return inner_->HoldLease(name);
  }
  absl::StatusOr<std::vector<std::string>> ListLeadIds(
      absl::string_view after_id, int limit) override {
    return inner_->ListLeadIds(after_id, limit);
  }
  absl::StatusOr<std::vector<StoredLead>> ListAccountLeads(
      absl::string_view account, absl::string_view after_id,
      int limit) override {
    return inner_->ListAccountLeads(account, after_id, limit);
  }
  absl::StatusOr<std::vector<std::string>> ListAccounts(
      absl::string_view after_account, int limit) override {
    return inner_->ListAccounts(after_account, limit);
  }
  absl::Status ScanReviewFacts(
      absl::Time since,
      absl::FunctionRef<absl::Status(const v1::LeadReviewFacts&)> fn) override {
    return inner_->ScanReviewFacts(since, fn);
  }

 private:
  std::unique_ptr<Store> inner_;
  ServiceMetrics* metrics_;
};

}  // namespace

ServiceMetrics::ServiceMetrics() : store_writes_(LatencyBounds()) {}

void ServiceMetrics::ObserveRpc(const std::string& method,
                                const std::string& code,
                                absl::Duration latency) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rpcs_.find({method, code});
  if (it == rpcs_.end()) {
    it = rpcs_
             .emplace(std::pair{method, code},
                      Rpc{0, Histogram(LatencyBounds())})
             .first;
  }
  ++it->second.calls;
  it->second.latency.Observe(absl::ToDoubleSeconds(latency));
}

void ServiceMetrics::ObserveStoreWrite(absl::Duration latency, bool committed,
                                       int64_t new_events) {
  std::lock_guard<std::mutex> lock(mu_);
  store_writes_.Observe(absl::ToDoubleSeconds(latency));
  if (!committed) ++store_write_failures_;
  events_ingested_ += static_cast<uint64_t>(new_events);
}

std::string ServiceMetrics::Render(Store& store, Playbooks& playbooks) {
  PrometheusText out;
  {
    std::lock_guard<std::mutex> lock(leads_mu_);
    const absl::Time now = absl::Now();
    if (now - leads_counted_at_ >= kLeadCountTtl) {
      std::map<std::string, int64_t> by_stage;
      for (int s = v1::LIFECYCLE_STAGE_NEW;
           s <= v1::LIFECYCLE_STAGE_DISQUALIFIED; ++s) {
        by_stage[EnumLabel(v1::LifecycleStage_descriptor(), s)] = 0;
      }
      int64_t breaches = 0;
      auto version = playbooks.Get(0);
      std::string after;
      bool complete = true;
      for (;;) {
        auto leads = store.ListLeads(LeadFilter(), after, kScanPage);
        if (!leads.ok()) {
          complete = false;
          break;
        }
        for (const StoredLead& lead : *leads) {
          ++by_stage[EnumLabel(v1::LifecycleStage_descriptor(),
                               lead.lifecycle.stage())];
          if (version.ok() &&
              version->engine->SlaStatusAt({lead.lifecycle, lead.score}, now)
                      .state() == v1::SLA_STATE_BREACHED) {
            ++breaches;
          }
        }
        if (static_cast<int>(leads->size()) < kScanPage) break;
        after = leads->back().lead.id();
      }
      // A failed count keeps the previous one rather than showing zeros.
      if (complete) {
        leads_by_stage_ = std::move(by_stage);
        sla_breaches_ = breaches;
        leads_counted_at_ = now;
      }
    }
    out.Family("smarketing_leads", "Stored leads per lifecycle stage.",
               "gauge");
    for (const auto& [stage, n] : leads_by_stage_) {
      out.Sample("smarketing_leads", {{"stage", stage}},
                 static_cast<double>(n));
    }
    out.Family("smarketing_sla_breached_leads",
               "Leads whose SLA is breached now.", "gauge");
    out.Sample("smarketing_sla_breached_leads", {},
               static_cast<double>(sla_breaches_));
  }
  std::lock_guard<std::mutex> lock(mu_);
  out.Family("smarketing_rpc_calls_total",
             "gRPC calls handled, by method and status code.", "counter");
  for (const auto& [key, rpc] : rpcs_) {
    out.Sample("smarketing_rpc_calls_total",
               {{"method", key.first}, {"code", key.second}},
               static_cast<double>(rpc.calls));
  }
  out.Family("smarketing_rpc_latency_seconds",
             "gRPC call latency, by method and status code.", "histogram");
  for (const auto& [key, rpc] : rpcs_) {
    out.Observations("smarketing_rpc_latency_seconds",
                     {{"method", key.first}, {"code", key.second}},
                     rpc.latency);
  }
  out.Family("smarketing_store_write_seconds",
             "Latency of store write transactions, commit included.",
             "histogram");
  out.Observations("smarketing_store_write_seconds", {}, store_writes_);
  out.Family("smarketing_store_write_failures_total",
             "Store write transactions rolled back.", "counter");
  out.Sample("smarketing_store_write_failures_total", {},
             static_cast<double>(store_write_failures_));
  out.Family("smarketing_events_ingested_total",
             "Events stored for the first time (retries not counted).",
             "counter");
  out.Sample("smarketing_events_ingested_total", {},
             static_cast<double>(events_ingested_));
  return out.text();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MetricsInterceptorFactory(ServiceMetrics* metrics) {
  return std::make_unique<MetricsInterceptorFactoryImpl>(metrics);
}

std::unique_ptr<Store> TimedStore(std::unique_ptr<Store> store,
                                  ServiceMetrics* metrics) {
  return std::make_unique<TimedStoreImpl>(std::move(store), metrics);
}

}  // namespace smarketing
