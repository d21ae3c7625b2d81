#include "grpc_server/webhooks.h"

#include <curl/curl.h>

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/proto_time.h"
#include "core/delivery/webhook_policy.h"
#include "google/protobuf/util/json_util.h"
#include "grpc_server/log.h"
#include "grpc_server/wait.h"

namespace smarketing {
namespace {

// The lease (Store::HoldLease) under which changes are delivered: replicas
// sharing a database deliver one at a time, as two would POST each change
// twice and race on the subscriptions' cursors.
constexpr char kWebhookLease[] = "webhook-delivery";
// Changes read from the feed at a time.
constexpr int kPage = 100;
// What is kept of a receiver's answer: enough for an error message.
constexpr size_t kMaxAnswerBytes = 4096;

size_t KeepAnswer(char* data, size_t size, size_t count, void* out) {
  auto* answer = static_cast<std::string*>(out);
  const size_t n = size * count;
  if (answer->size() < kMaxAnswerBytes) {
    answer->append(data, std::min(n, kMaxAnswerBytes - answer->size()));
  }
  return n;
}

}  // namespace

WebhookDeliverer::WebhookDeliverer(Store* store,
                                   std::function<absl::Time()> clock,
                                   WebhookOptions options)
    : store_(store), clock_(std::move(clock)), options_(options) {
  // Thread-safe from curl 7.84 on, but must come before any other thread
  // uses curl; the server makes one deliverer.
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

WebhookDeliverer::~WebhookDeliverer() { Stop(); }

void WebhookDeliverer::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void WebhookDeliverer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool WebhookDeliverer::stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void WebhookDeliverer::Loop() {
  for (;;) {
    RunOnce();
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_.wait_for(lock, WaitTimeout(options_.tick),
                       [this] { return stopping_; })) {
      return;
    }
  }
}

absl::Status WebhookDeliverer::Post(const v1::WebhookSubscription& webhook,
                                    const v1::WebhookDelivery& delivery) {
  std::string body;
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  if (auto st =
          google::protobuf::util::MessageToJsonString(delivery, &body, json);
      !st.ok()) {
    return absl::InternalError(std::string(st.message()));
  }
  const int64_t timestamp = absl::ToUnixSeconds(absl::Now());
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                           curl_easy_cleanup);
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  struct curl_slist* headers = nullptr;
  for (const std::string& header :
       {std::string("Content-Type: application/json"),
        absl::StrCat("X-Smarketing-Delivery: ", delivery.delivery_id()),
        absl::StrCat("X-Smarketing-Timestamp: ", timestamp),
        absl::StrCat("X-Smarketing-Signature: ",
                     WebhookSignature(webhook.secret(), timestamp, body))}) {
    headers = curl_slist_append(headers, header.c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(
      headers, curl_slist_free_all);
  std::string answer;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, webhook.url().c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(
      c, CURLOPT_TIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  // Signals would interrupt the server's other threads.
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, KeepAnswer);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    return absl::UnavailableError(absl::StrCat("HTTP ", status));
  }
  return absl::OkStatus();
}

int WebhookDeliverer::RunOnce() {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  auto leading = store_->HoldLease(kWebhookLease);
  if (!leading.ok()) {
    Log("warning", "webhook_store_error",
        {{"error", std::string(leading.status().message())}});
    return 0;
  }
  if (!*leading) return 0;
  std::vector<v1::WebhookSubscription> webhooks;
  absl::Status st = store_->Read([&](StoreTransaction& txn) -> absl::Status {
    auto all = txn.ListWebhooks();
    if (!all.ok()) return all.status();
    webhooks = *std::move(all);
    return absl::OkStatus();
  });
  if (!st.ok()) {
    Log("warning", "webhook_store_error",
        {{"error", std::string(st.message())}});
    return 0;
  }
  int delivered = 0;
  for (v1::WebhookSubscription& webhook : webhooks) {
    if (stopping()) break;
    const absl::Time now = clock_();
    if (webhook.has_next_attempt_at() &&
        TimeFromProto(webhook.next_attempt_at()) > now) {
      continue;
    }
    delivered += Deliver(std::move(webhook), now);
  }
  return delivered;
}

int WebhookDeliverer::Deliver(v1::WebhookSubscription webhook, absl::Time now) {
  int delivered = 0;
  // Stores where delivery stands, with a dead letter when one is given;
  // false when the subscription was deleted meanwhile or the store failed.
  auto save = [&](const v1::DeadLetter* letter) {
    absl::Status st = store_->Write([&](StoreTransaction& txn) -> absl::Status {
      auto stored = txn.GetWebhook(webhook.id());
      if (!stored.ok()) return stored.status();
      if (!stored->has_value()) {
        return absl::NotFoundError("deleted meanwhile");
      }
      if (letter != nullptr) {
        if (auto added = txn.AddDeadLetter(*letter); !added.ok()) return added;
      }
      return txn.PutWebhook(webhook);
    });
    if (!st.ok() && !absl::IsNotFound(st)) {
      Log("warning", "webhook_store_error",
          {{"webhook", webhook.id()}, {"error", std::string(st.message())}});
    }
    return st.ok();
  };
  while (!stopping()) {
    auto changes = store_->ListChanges(webhook.delivered_cursor(), kPage);
    if (!changes.ok() || changes->empty()) break;
    for (v1::Change& change : *changes) {
      if (stopping()) return delivered;
      if (!WebhookWants(webhook, change)) {
        webhook.set_delivered_cursor(change.cursor());
        continue;
      }
      v1::WebhookDelivery delivery;
      delivery.set_delivery_id(WebhookDeliveryId(webhook, change));
      delivery.set_subscription_id(webhook.id());
      const int64_t cursor = change.cursor();
      *delivery.mutable_change() = std::move(change);
      absl::Status posted = Post(webhook, delivery);
      if (posted.ok()) {
        ++delivered;
        webhook.set_delivered_cursor(cursor);
        webhook.set_failures(0);
        webhook.clear_next_attempt_at();
        webhook.clear_last_error();
        if (!save(nullptr)) return delivered;
        continue;
      }
      webhook.set_failures(webhook.failures() + 1);
      webhook.set_last_error(std::string(posted.message()));
      Log("warning", "webhook_attempt_failed",
          {{"webhook", webhook.id()},
           {"delivery", delivery.delivery_id()},
           {"attempt", absl::StrCat(webhook.failures())},
           {"error", webhook.last_error()}});
      if (webhook.failures() < options_.max_attempts) {
        TimeToProto(
            NextWebhookAttempt(webhook.failures(), now, options_.retry_base),
            webhook.mutable_next_attempt_at());
        save(nullptr);
        return delivered;
      }
      // Given up on: kept as a dead letter, and delivery goes on.
      v1::DeadLetter letter;
      *letter.mutable_delivery() = std::move(delivery);
      letter.set_attempts(webhook.failures());
      letter.set_last_error(webhook.last_error());
      TimeToProto(now, letter.mutable_failed_at());
      webhook.set_delivered_cursor(cursor);
      webhook.set_failures(0);
      webhook.clear_next_attempt_at();
      if (!save(&letter)) return delivered;
    }
    // Changes passed over move the cursor too.
    if (!save(nullptr)) return delivered;
  }
  return delivered;
}

absl::StatusOr<v1::WebhookSubscription> WebhookDeliverer::Create(
    v1::WebhookSubscription requested, absl::string_view by) {
  v1::WebhookSubscription webhook;
  webhook.set_url(requested.url());
  *webhook.mutable_kinds() = requested.kinds();
  webhook.set_secret(requested.secret());
  if (auto st = ValidateWebhook(webhook); !st.ok()) return st;
  if (webhook.secret().empty()) webhook.set_secret(NewWebhookSecret());
  webhook.set_id(NewWebhookId());
  webhook.set_created_by(std::string(by));
  TimeToProto(absl::Now(), webhook.mutable_created_at());
  absl::Status st = store_->Write([&](StoreTransaction& txn) -> absl::Status {
    auto all = txn.ListWebhooks();
    if (!all.ok()) return all.status();
    if (static_cast<int>(all->size()) >= options_.max_webhooks) {
      return absl::ResourceExhaustedError(
          absl::StrCat("there are ", all->size(), " webhooks already; at most ",
                       options_.max_webhooks));
    }
    auto latest = txn.LatestChangeCursor();
    if (!latest.ok()) return latest.status();
    webhook.set_delivered_cursor(*latest);
    return txn.PutWebhook(webhook);
  });
  if (!st.ok()) return st;
  return webhook;
}

absl::StatusOr<std::vector<v1::WebhookSubscription>> WebhookDeliverer::List() {
  std::vector<v1::WebhookSubscription> out;
  absl::Status st = store_->Read([&](StoreTransaction& txn) -> absl::Status {
    auto all = txn.ListWebhooks();
    if (!all.ok()) return all.status();
    out = *std::move(all);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  for (v1::WebhookSubscription& webhook : out) webhook.clear_secret();
  return out;
}

absl::Status WebhookDeliverer::Delete(absl::string_view id) {
  return store_->Write(
      [&](StoreTransaction& txn) { return txn.DeleteWebhook(id); });
}

absl::StatusOr<std::vector<v1::DeadLetter>> WebhookDeliverer::ListDeadLetters(
    absl::string_view subscription_id, int64_t after_cursor, int limit) {
  std::vector<v1::DeadLetter> out;
  absl::Status st = store_->Read([&](StoreTransaction& txn) -> absl::Status {
    auto exists = txn.GetWebhook(subscription_id);
    if (!exists.ok()) return exists.status();
    if (!exists->has_value()) {
      return absl::NotFoundError(absl::StrCat("no webhook ", subscription_id));
    }
    auto letters = txn.ListDeadLetters(subscription_id, after_cursor, limit);
    if (!letters.ok()) return letters.status();
    out = *std::move(letters);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

absl::Status WebhookDeliverer::Replay(absl::string_view delivery_id) {
  std::optional<v1::DeadLetter> letter;
  std::optional<v1::WebhookSubscription> webhook;
  absl::Status st = store_->Read([&](StoreTransaction& txn) -> absl::Status {
    auto found = txn.GetDeadLetter(delivery_id);
    if (!found.ok()) return found.status();
    letter = *std::move(found);
    if (!letter) return absl::OkStatus();
    auto subscription = txn.GetWebhook(letter->delivery().subscription_id());
    if (!subscription.ok()) return subscription.status();
    webhook = *std::move(subscription);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (!letter || !webhook) {
    return absl::NotFoundError(absl::StrCat("no dead letter ", delivery_id));
  }
  if (auto posted = Post(*webhook, letter->delivery()); !posted.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the receiver did not acknowledge ", delivery_id, ": ",
                     posted.message()));
  }
  return store_->Write(
      [&](StoreTransaction& txn) { return txn.DeleteDeadLetter(delivery_id); });
}

}  // namespace smarketing
