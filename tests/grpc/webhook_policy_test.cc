// The webhook decisions of the core: which subscriptions are valid, which
// changes they want, the signature, the backoff.
#include "core/delivery/webhook_policy.h"

#include "core/base/problems.h"
#include "gtest/gtest.h"

namespace smarketing {
namespace {

TEST(WebhookPolicy, TheSignatureIsTheHmacOfTimestampDotBody) {
  // Computed independently with Python's hmac module.
  EXPECT_EQ(WebhookSignature("key-key-key-key-key", 1700000000, R"({"a":1})"),
            "sha256="
            "697da7e30412f7753fffe391414f555b31433c7439c961bc5471a7e03e96ab20");
}

TEST(WebhookPolicy, BackoffDoublesUpToAnHour) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  EXPECT_EQ(NextWebhookAttempt(1, now, absl::Seconds(1)),
            now + absl::Seconds(1));
  EXPECT_EQ(NextWebhookAttempt(2, now, absl::Seconds(1)),
            now + absl::Seconds(2));
  EXPECT_EQ(NextWebhookAttempt(5, now, absl::Seconds(1)),
            now + absl::Seconds(16));
  EXPECT_EQ(NextWebhookAttempt(40, now, absl::Seconds(1)),
            now + absl::Hours(1));
}

TEST(WebhookPolicy, ASubscriptionWantsItsKindsOrEveryKind) {
  v1::WebhookSubscription all;
  v1::Change change;
  change.add_kinds(v1::CHANGE_KIND_LEAD_UPDATED);
  change.add_kinds(v1::CHANGE_KIND_STAGE_MOVED);
  EXPECT_TRUE(WebhookWants(all, change));
  v1::WebhookSubscription moves;
  moves.add_kinds(v1::CHANGE_KIND_STAGE_MOVED);
  EXPECT_TRUE(WebhookWants(moves, change));
  v1::WebhookSubscription erasures;
  erasures.add_kinds(v1::CHANGE_KIND_LEAD_ERASED);
  EXPECT_FALSE(WebhookWants(erasures, change));
  // Account score changes are entries of their own.
  v1::WebhookSubscription accounts;
  accounts.set_url("https://crm.example/hooks/accounts");
  accounts.add_kinds(v1::CHANGE_KIND_ACCOUNT_SCORE_CHANGED);
  EXPECT_TRUE(ValidateWebhook(accounts).ok());
  EXPECT_FALSE(WebhookWants(accounts, change));
  v1::Change account_change;
  account_change.add_kinds(v1::CHANGE_KIND_ACCOUNT_SCORE_CHANGED);
  EXPECT_TRUE(WebhookWants(accounts, account_change));
  EXPECT_FALSE(WebhookWants(erasures, account_change));
}

TEST(WebhookPolicy, InvalidSubscriptionsNameEachField) {
  v1::WebhookSubscription webhook;
  webhook.set_url("ftp://example.org/hook");
  webhook.add_kinds(v1::CHANGE_KIND_UNSPECIFIED);
  webhook.set_secret("too-short");
  const absl::Status st = ValidateWebhook(webhook);
  ASSERT_TRUE(absl::IsInvalidArgument(st));
  auto problems = ProblemsFromStatus(st);
  ASSERT_TRUE(problems.has_value());
  ASSERT_EQ(problems->problems_size(), 3);
  EXPECT_EQ(problems->problems(0).path(), "url");
  EXPECT_EQ(problems->problems(1).path(), "kinds[0]");
  EXPECT_EQ(problems->problems(2).path(), "secret");

  webhook.set_url("https://crm.example/hooks/smarketing");
  webhook.clear_kinds();
  webhook.clear_secret();
  EXPECT_TRUE(ValidateWebhook(webhook).ok());
  EXPECT_EQ(NewWebhookSecret().size(), 64u);
  EXPECT_NE(NewWebhookId(), NewWebhookId());
}

}  // namespace
}  // namespace smarketing
