#include "core/delivery/webhook_policy.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/problems.h"

namespace smarketing {

absl::Status ValidateWebhook(const v1::WebhookSubscription& webhook) {
  ProblemList problems;
  const std::string& url = webhook.url();
  if (url.empty()) {
    problems.Add("url", "required");
  } else if (url.size() > kMaxWebhookUrlBytes) {
    problems.Add("url", absl::StrCat("is ", url.size(), " bytes long; at most ",
                                     kMaxWebhookUrlBytes));
  } else if (!(absl::StartsWith(url, "http://") && url.size() > 7) &&
             !(absl::StartsWith(url, "https://") && url.size() > 8)) {
    problems.Add("url", "must be an http:// or https:// URL with a host");
  } else if (url.find_first_of(" \t\r\n") != std::string::npos) {
    problems.Add("url", "must not contain spaces or line breaks");
  }
  for (int i = 0; i < webhook.kinds_size(); ++i) {
    const int kind = webhook.kinds(i);
    if (kind == v1::CHANGE_KIND_UNSPECIFIED || !v1::ChangeKind_IsValid(kind)) {
      problems.Add(absl::StrCat("kinds[", i, "]"),
                   absl::StrCat("not a kind of change: ", kind));
    }
  }
  const size_t secret = webhook.secret().size();
  if (secret > 0 &&
      (secret < kMinWebhookSecretBytes || secret > kMaxWebhookSecretBytes)) {
    problems.Add("secret", absl::StrCat("is ", secret, " bytes long; from ",
                                        kMinWebhookSecretBytes, " to ",
                                        kMaxWebhookSecretBytes));
  }
  return problems.ToStatus("the webhook is not valid");
}

bool WebhookWants(const v1::WebhookSubscription& webhook,
                  const v1::Change& change) {
  if (webhook.kinds().empty()) return true;
  for (int kind : change.kinds()) {
    if (std::find(webhook.kinds().begin(), webhook.kinds().end(), kind) !=
        webhook.kinds().end()) {
      return true;
    }
  }
  return false;
}

std::string WebhookDeliveryId(const v1::WebhookSubscription& webhook,
                              const v1::Change& change) {
  return absl::StrCat(webhook.id(), "-", change.cursor());
}

std::string WebhookSignature(absl::string_view secret, int64_t timestamp,
                             absl::string_view body) {
  const std::string message = absl::StrCat(timestamp, ".", body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest, &length);
  return absl::StrCat("sha256=",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(digest), length)));
}

namespace {

std::string RandomHex(int bytes) {
  std::string raw(bytes, '\0');
  // RAND_bytes fails only when the system's entropy source is broken, which
  // would break TLS too.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes) != 1) {
    std::abort();
  }
  return absl::BytesToHexString(raw);
}

}  // namespace

std::string NewWebhookId() { return absl::StrCat("wh-", RandomHex(8)); }
std::string NewWebhookSecret() { return RandomHex(32); }

absl::Time NextWebhookAttempt(int failures, absl::Time now,
                              absl::Duration base) {
  absl::Duration wait = base;
  for (int i = 1; i < failures && wait < kMaxWebhookBackoff; ++i) wait *= 2;
  return now + std::min(wait, kMaxWebhookBackoff);
}

}  // namespace smarketing
