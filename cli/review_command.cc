#include "cli/review_command.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/review/review_render.h"
#include "google/protobuf/util/json_util.h"
#include "smarketing/v1/report_service.grpc.pb.h"

namespace smarketing::cli {
namespace {

constexpr int kOk = 0;
constexpr int kUsageError = 2;

int Fail(const std::string& message) {
  std::cerr << "smarketing review: " << message << "\n";
  return kUsageError;
}

}  // namespace

int Review(const ReviewOptions& options) {
  if (options.server.empty()) return Fail("--server HOST:PORT is required");
  if (options.format != "text" && options.format != "json" &&
      options.format != "markdown" && options.format != "html") {
    return Fail(absl::StrCat("--format: unknown format \"", options.format,
                             "\"; expected text, json, markdown or html"));
  }
  if (options.token.empty()) {
    return Fail("SMARKETING_TOKEN must hold a token with the reader role");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (!options.tls_ca.empty()) {
    std::ifstream in(options.tls_ca);
    if (!in)
      return Fail(absl::StrCat("--tls_ca: cannot read ", options.tls_ca));
    std::stringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(ssl);
  }
  auto stub = v1::ReportService::NewStub(
      grpc::CreateChannel(options.server, credentials));
  v1::GetReviewRequest request;
  request.set_week(options.week);
  request.mutable_filter()->set_team_id(options.team);
  request.mutable_filter()->set_campaign(options.campaign);
  request.mutable_filter()->set_source(options.source);
  request.mutable_filter()->set_persona_id(options.persona);
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", options.token));
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(options.timeout_seconds));
  v1::GetReviewResponse response;
  const grpc::Status status = stub->GetReview(&context, request, &response);
  if (!status.ok()) {
    return Fail(absl::StrCat(options.server, ": ", status.error_message()));
  }
  const v1::Review& review = response.review();
  if (options.format == "json") {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    print.always_print_primitive_fields = true;
    print.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(review, &json, print)
             .ok()) {
      return Fail("cannot write the review as JSON");
    }
    std::cout << json;
  } else if (options.format == "markdown") {
    std::cout << RenderReviewMarkdown(review);
  } else if (options.format == "html") {
    std::cout << RenderReviewHtml(review);
  } else {
    std::cout << RenderReviewText(review);
  }
  return kOk;
}

}  // namespace smarketing::cli
