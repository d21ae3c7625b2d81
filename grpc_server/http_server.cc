#include "grpc_server/http_server.h"

#include <httplib.h>

#include <atomic>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/review/review_render.h"
#include "grpc_server/log.h"
#include "grpc_server/review_query.h"

namespace smarketing {
namespace {

// Requests carry no body; query strings are short.
constexpr size_t kMaxPayload = 1 << 14;
// A page nobody waits for any more should not keep reading the store.
constexpr absl::Duration kReviewTimeout = absl::Seconds(120);

// The token of "Bearer TOKEN" or of "Basic base64(user:TOKEN)"; empty when
// neither.
std::string TokenOf(const std::string& header) {
  absl::string_view value = absl::StripAsciiWhitespace(header);
  if (absl::StartsWithIgnoreCase(value, "Bearer ")) {
    return std::string(absl::StripAsciiWhitespace(value.substr(7)));
  }
  if (absl::StartsWithIgnoreCase(value, "Basic ")) {
    std::string decoded;
    if (!absl::Base64Unescape(absl::StripAsciiWhitespace(value.substr(6)),
                              &decoded)) {
      return "";
    }
    const size_t colon = decoded.find(':');
    return colon == std::string::npos ? "" : decoded.substr(colon + 1);
  }
  return "";
}

// 401 (with the Basic challenge, so that a browser asks) unless the request
// carries a token with the reader role; the response then says why.
bool Authorized(const TokenTable& tokens, const httplib::Request& req,
                httplib::Response& res) {
  const std::string token = TokenOf(req.get_header_value("Authorization"));
  if (!token.empty() && tokens.Find(token).ok()) return true;
  res.status = 401;
  res.set_header("WWW-Authenticate",
                 "Basic realm=\"smarketing\", charset=\"UTF-8\"");
  res.set_content(
      token.empty()
          ? "missing \"Authorization: Bearer TOKEN\" (or Basic with the token "
            "as password)\n"
          : "the token is not valid\n",
      "text/plain; charset=utf-8");
  Log("info", "http_refused", {{"path", req.path}});
  return false;
}

int HttpStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kCancelled:
      return 503;
    default:
      return 500;
  }
}

// HTTPS when the TLS files are set.
absl::StatusOr<std::unique_ptr<httplib::Server>> NewHttpServer(
    const HttpOptions& options, bool tls) {
  if (!tls) return std::make_unique<httplib::Server>();
  auto ssl = std::make_unique<httplib::SSLServer>(
      options.tls_cert.c_str(), options.tls_key.c_str(),
      options.tls_client_ca.empty() ? nullptr : options.tls_client_ca.c_str());
  if (!ssl->is_valid()) {
    return absl::InvalidArgumentError(
        "--http_listen: cannot use --tls_cert, --tls_key (and "
        "--tls_client_ca) for HTTPS");
  }
  return ssl;
}

// /review?week=...&team=...: the weekly review as a page.
void ServeReview(const HttpDeps& deps, const httplib::Request& req,
                 httplib::Response& res) {
  if (!Authorized(*deps.tokens, req, res)) return;
  v1::GetReviewRequest request;
  request.set_week(req.get_param_value("week"));
  request.mutable_filter()->set_team_id(req.get_param_value("team"));
  request.mutable_filter()->set_campaign(req.get_param_value("campaign"));
  request.mutable_filter()->set_source(req.get_param_value("source"));
  request.mutable_filter()->set_persona_id(req.get_param_value("persona"));
  const absl::Time start = absl::Now();
  auto review =
      ComputeReview(*deps.store, *deps.playbooks, request, start,
                    [start] { return absl::Now() - start > kReviewTimeout; });
  if (!review.ok()) {
    res.status = HttpStatus(review.status());
    res.set_content(absl::StrCat(review.status().message(), "\n"),
                    "text/plain; charset=utf-8");
    return;
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(RenderReviewHtml(*review), "text/html; charset=utf-8");
  Log("info", "http_review",
      {{"week", review->period_label()},
       {"ms", absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - start))}});
}

void AddRoutes(const HttpDeps& deps, httplib::Server& http) {
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  http.Get("/metrics",
           [deps](const httplib::Request& req, httplib::Response& res) {
             if (!Authorized(*deps.tokens, req, res)) return;
             res.set_content(deps.metrics->Render(*deps.store, *deps.playbooks),
                             "text/plain; version=0.0.4; charset=utf-8");
           });
  http.Get("/review",
           [deps](const httplib::Request& req, httplib::Response& res) {
             ServeReview(deps, req, res);
           });
}

struct HostPort {
  std::string host;
  int port = 0;
};

// host:port, the host possibly a bracketed IPv6 address.
absl::StatusOr<HostPort> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  HostPort out;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &out.port) || out.port < 0 ||
      out.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http_listen: expected HOST:PORT; found \"", listen, "\""));
  }
  out.host = listen.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' &&
      out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpOptions& options, HttpDeps deps) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  auto made = NewHttpServer(options, tls);
  if (!made.ok()) return made.status();
  server->server_ = *std::move(made);
  httplib::Server& http = *server->server_;
  http.set_payload_max_length(kMaxPayload);
  http.set_read_timeout(10, 0);
  http.set_write_timeout(60, 0);
  AddRoutes(deps, http);

  auto address = ParseListen(options.listen);
  if (!address.ok()) return address.status();
  if (address->port == 0) {
    server->port_ = http.bind_to_any_port(address->host);
  } else if (http.bind_to_port(address->host, address->port)) {
    server->port_ = address->port;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("--http_listen: cannot listen on ", options.listen));
  }
  server->thread_ = std::thread([&http] { http.listen_after_bind(); });
  Log("info", "http_started",
      {{"listen", options.listen},
       {"port", absl::StrCat(server->port_)},
       {"tls", tls ? "on" : "off"}});
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace smarketing
