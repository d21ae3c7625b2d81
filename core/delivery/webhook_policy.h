// How the service delivers the change feed to webhooks: which changes a
// subscription wants, what a valid subscription is, how each request is
// signed, and when a failed delivery is tried again or given up on. The
// service does the HTTP; the decisions are here.
#ifndef SMARKETING_CORE_DELIVERY_WEBHOOK_POLICY_H_
#define SMARKETING_CORE_DELIVERY_WEBHOOK_POLICY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smarketing/v1/change.pb.h"
#include "smarketing/v1/webhook.pb.h"

namespace smarketing {

inline constexpr size_t kMaxWebhookUrlBytes = 2048;
inline constexpr size_t kMinWebhookSecretBytes = 16;
inline constexpr size_t kMaxWebhookSecretBytes = 256;
// The longest wait between two attempts at a change.
inline constexpr absl::Duration kMaxWebhookBackoff = absl::Hours(1);

// Checks the url, kinds and secret a client gives (INVALID_ARGUMENT naming
// the field: "url", "kinds[i]", "secret").
absl::Status ValidateWebhook(const v1::WebhookSubscription& webhook);

// Whether `change` is of a kind `webhook` subscribed to.
bool WebhookWants(const v1::WebhookSubscription& webhook,
                  const v1::Change& change);

// The delivery id of `change` to `webhook`: the same on every retry.
std::string WebhookDeliveryId(const v1::WebhookSubscription& webhook,
                              const v1::Change& change);

// The X-Smarketing-Signature header's value for `body` sent at
// `timestamp` (Unix seconds): "sha256=" and the lowercase hex
// HMAC-SHA256, keyed with `secret`, of "<timestamp>.<body>".
std::string WebhookSignature(absl::string_view secret, int64_t timestamp,
                             absl::string_view body);

// A new subscription's id ("wh-" and 16 random hex digits) and secret (64
// random hex digits), from OpenSSL's generator.
std::string NewWebhookId();
std::string NewWebhookSecret();

// When to try again after the `failures`-th failed attempt (1, 2, ...)
// at `now`: `base` doubled at each failure, at most kMaxWebhookBackoff.
absl::Time NextWebhookAttempt(int failures, absl::Time now,
                              absl::Duration base);

}  // namespace smarketing

#endif  // SMARKETING_CORE_DELIVERY_WEBHOOK_POLICY_H_
