// `smarketing review`: fetches the weekly review from a running service
// (ReportService.GetReview) and prints it as text, JSON, Markdown or HTML,
// so that a scheduled job can post it to a chat or a mail. The only command
// that talks to the service; built when gRPC is.
#ifndef SMARKETING_CLI_REVIEW_COMMAND_H_
#define SMARKETING_CLI_REVIEW_COMMAND_H_

#include <string>

namespace smarketing::cli {

struct ReviewOptions {
  // host:port of smarketing-server. Required.
  std::string server;
  // PEM file of the CA that signed the server's certificate: TLS when set.
  std::string tls_ca;
  // "2026-W48"; empty for the current week.
  std::string week;
  std::string team;
  std::string campaign;
  std::string source;
  std::string persona;
  // text, json, markdown or html.
  std::string format = "text";
  // The bearer token (SMARKETING_TOKEN).
  std::string token;
  // Seconds to wait for the review.
  int timeout_seconds = 60;
};

// Prints the review on standard output; 0 when it did, 2 on a usage error
// or a refusal by the service (its message on standard error).
int Review(const ReviewOptions& options);

}  // namespace smarketing::cli

#endif  // SMARKETING_CLI_REVIEW_COMMAND_H_
