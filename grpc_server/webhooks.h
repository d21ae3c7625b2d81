// Webhook delivery: a thread that POSTs the change feed to each
// subscription, one change per request in the feed's order, signed
// (core/delivery), at least once: a subscription's cursor moves in the
// store only after the receiver acknowledged the change (or it was given
// up on and kept as a dead letter), so a restart resumes where delivery
// stood. Failed attempts wait with exponential backoff. Outgoing HTTP with
// libcurl, each request bounded by a timeout.
#ifndef SMARKETING_GRPC_SERVER_WEBHOOKS_H_
#define SMARKETING_GRPC_SERVER_WEBHOOKS_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "smarketing/v1/webhook.pb.h"
#include "store/store.h"

namespace smarketing {

struct WebhookOptions {
  // How long one request may take, connection included.
  absl::Duration timeout = absl::Seconds(10);
  // The wait after the first failed attempt at a change; doubled at each
  // failure (core/delivery).
  absl::Duration retry_base = absl::Seconds(1);
  // Subscriptions at most.
  int max_webhooks = 100;
  // Attempts at a change before it goes to the dead-letter list.
  int max_attempts = 8;
  // How often to look for changes to deliver.
  absl::Duration tick = absl::Seconds(1);
};

class WebhookDeliverer {
 public:
  WebhookDeliverer(Store* store, std::function<absl::Time()> clock,
                   WebhookOptions options);
  ~WebhookDeliverer();

  // Delivers on a thread of its own until Stop.
  void Start();
  void Stop();

  // One pass: every subscription due gets the changes after its cursor,
  // until one fails or none is left. Returns how many were acknowledged.
  int RunOnce();

  // Delivers a dead letter again, once, now; removes it when acknowledged,
  // UNAVAILABLE with the reason otherwise.
  absl::Status Replay(absl::string_view delivery_id);

  // --- Subscriptions ---

  // Stores `requested` (url, kinds, secret; checked by ValidateWebhook) as
  // a new subscription created by `by`, delivered the changes committed
  // from now on. Returns it with its secret.
  absl::StatusOr<v1::WebhookSubscription> Create(
      v1::WebhookSubscription requested, absl::string_view by);
  // Every subscription, secrets left out.
  absl::StatusOr<std::vector<v1::WebhookSubscription>> List();
  absl::Status Delete(absl::string_view id);
  // See StoreTransaction::ListDeadLetters.
  absl::StatusOr<std::vector<v1::DeadLetter>> ListDeadLetters(
      absl::string_view subscription_id, int64_t after_cursor, int limit);

 private:
  void Loop();
  bool stopping();
  // Delivers to one subscription; returns how many were acknowledged.
  int Deliver(v1::WebhookSubscription webhook, absl::Time now);
  // POSTs `delivery` to `webhook`; OK on a 2xx answer.
  absl::Status Post(const v1::WebhookSubscription& webhook,
                    const v1::WebhookDelivery& delivery);

  Store* store_;
  std::function<absl::Time()> clock_;
  WebhookOptions options_;
  // std::mutex and std::condition_variable rather than abseil's: Debian's
  // abseil is not built with ThreadSanitizer, which cannot see absl::Mutex
  // and would miss races around it (tests/grpc/background_test.cc).
  // One pass at a time, whether from the thread or a caller.
  std::mutex run_mu_;
  std::mutex mu_;
  std::condition_variable stop_;
  // Guarded by mu_.
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_WEBHOOKS_H_
