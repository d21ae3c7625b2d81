// smarketing-server: the smarketing core behind gRPC, with its lead store.
#include <csignal>
#include <cstdio>
#include <map>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/version.h"
#include "grpc_server/log.h"
#include "grpc_server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to listen on; port 0 picks a free port");
ABSL_FLAG(std::string, store, "smarketing.db",
          "the lead store: an SQLite database file, created when missing, "
          "or a PostgreSQL database URL (postgresql://USER@HOST:PORT/DB), "
          "which several replicas can share");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the server; with --tls_key, TLS only");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates; when set, clients must present a "
          "certificate signed by one of them (mutual TLS)");
ABSL_FLAG(std::string, token_file, "",
          "required: lines \"TOKEN ROLE NAME\" (ROLE: reader, sales, "
          "marketing or admin; '#' comments)");
ABSL_FLAG(std::string, demo_playbook, "",
          "Playbook file published and activated when the store has no "
          "active version");
ABSL_FLAG(int, max_message_bytes, 32 << 20,
          "largest request or response, in bytes");
ABSL_FLAG(std::string, scheduler, "on",
          "on: run the SLA scheduler (escalation steps, SLA states, team "
          "queues); off: for replicas that must not act");
ABSL_FLAG(absl::Duration, scheduler_tick, absl::Seconds(10),
          "how often the SLA scheduler looks for due steps, e.g. 10s");
ABSL_FLAG(int, rescore_batch, 1000,
          "leads per transaction when stored leads are evaluated again "
          "after a Playbook activation or by the refresh");
ABSL_FLAG(absl::Duration, refresh_interval, absl::Hours(24),
          "how often every stored lead is evaluated again as engagement "
          "decays (only leads whose grade, stage, priority, routing or SLA "
          "state changes are written); 0 turns it off. With "
          "--scheduler=off, neither rescoring nor the refresh runs");
ABSL_FLAG(absl::Duration, webhook_timeout, absl::Seconds(10),
          "how long one webhook request may take, connection included");
ABSL_FLAG(absl::Duration, webhook_retry_base, absl::Seconds(1),
          "wait after a failed webhook attempt, doubled at each failure "
          "(at most 1h)");
ABSL_FLAG(int, webhook_max_attempts, 8,
          "attempts at a change before it goes to the webhook's dead-letter "
          "list");
ABSL_FLAG(absl::Duration, webhook_tick, absl::Seconds(1),
          "how often webhook delivery looks for new changes (with "
          "--scheduler=on only)");
ABSL_FLAG(std::string, http_listen, "",
          "host:port of an HTTP listener serving /review (the weekly review "
          "page), /metrics (Prometheus) and /healthz; off when empty. Same "
          "tokens as gRPC (Bearer, or Basic with the token as password) and "
          "the same TLS files");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "on SIGTERM or SIGINT, how long calls in flight may take to finish");

namespace {

constexpr char kUsage[] =
    "serves the smarketing gRPC API (scoring, Playbooks, leads, reports) "
    "with health checking and reflection.\n"
    "Usage: smarketing-server --token_file=FILE [--listen=HOST:PORT] "
    "[--store=FILE|postgresql://...] [--demo_playbook=FILE] "
    "[--tls_cert=PEM --tls_key=PEM [--tls_client_ca=PEM]] "
    "[--http_listen=HOST:PORT]";

// --help lists this program's flags and exits 0. Debian's abseil would exit
// 1, and look for the flags in a source file named after the program.
bool PrintHelpIfAsked(int argc, char** argv) {
  bool asked = false;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    asked |= arg == "--help" || arg == "-h" || arg == "--helpfull";
  }
  if (!asked) return false;
  std::map<std::string, const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::EndsWith(flag->Filename(), "grpc_server/main.cc")) {
      flags.emplace(std::string(name), flag);
    }
  }
  std::printf("smarketing-server %s: %s\n\nFlags:\n",
              std::string(smarketing::Version()).c_str(), kUsage);
  for (const auto& [name, flag] : flags) {
    std::printf("  --%s (default \"%s\")\n      %s\n", name.c_str(),
                flag->DefaultValue().c_str(), flag->Help().c_str());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (PrintHelpIfAsked(argc, argv)) return 0;
  absl::FlagsUsageConfig usage;
  usage.version_string = [] {
    return absl::StrCat("smarketing-server ", smarketing::Version(), "\n");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(kUsage);
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil checks every absl::Mutex acquisition (gRPC takes many
  // per call) for lock-order cycles; that bookkeeping showed up as the
  // hottest user-space function under load.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Signals are taken synchronously by this thread (sigwait), so gRPC's
  // threads, which inherit the mask, never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  smarketing::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.store_path = absl::GetFlag(FLAGS_store);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  options.token_file = absl::GetFlag(FLAGS_token_file);
  options.demo_playbook = absl::GetFlag(FLAGS_demo_playbook);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  const std::string scheduler = absl::GetFlag(FLAGS_scheduler);
  if (scheduler != "on" && scheduler != "off") {
    smarketing::Log("error", "server_not_started",
                    {{"error", absl::StrCat("--scheduler must be on or off; "
                                            "found \"",
                                            scheduler, "\"")}});
    return 2;
  }
  options.scheduler = scheduler == "on";
  options.scheduler_tick = absl::GetFlag(FLAGS_scheduler_tick);
  options.rescore_batch = absl::GetFlag(FLAGS_rescore_batch);
  options.refresh_interval = absl::GetFlag(FLAGS_refresh_interval);
  options.webhooks.timeout = absl::GetFlag(FLAGS_webhook_timeout);
  options.webhooks.retry_base = absl::GetFlag(FLAGS_webhook_retry_base);
  options.webhooks.max_attempts = absl::GetFlag(FLAGS_webhook_max_attempts);
  options.webhooks.tick = absl::GetFlag(FLAGS_webhook_tick);
  options.http_listen = absl::GetFlag(FLAGS_http_listen);
  auto server = smarketing::Server::Start(options);
  if (!server.ok()) {
    smarketing::Log("error", "server_not_started",
                    {{"error", std::string(server.status().message())}});
    return 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  smarketing::Log("info", "shutting_down",
                  {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Shutdown(
      absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  return 0;
}
