// The optional HTTP listener (--http_listen): the weekly review as one
// self-contained HTML page (/review), Prometheus metrics (/metrics) and a
// liveness check (/healthz). The review and the metrics need a token with
// the reader role, as gRPC calls do: "Authorization: Bearer TOKEN", or HTTP
// Basic with the token as password so that a browser can open the page.
// TLS (and client certificates) with the gRPC listener's files.
#ifndef SMARKETING_GRPC_SERVER_HTTP_SERVER_H_
#define SMARKETING_GRPC_SERVER_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpc_server/auth.h"
#include "grpc_server/metrics.h"
#include "grpc_server/playbooks.h"
#include "store/store.h"

namespace httplib {
class Server;
}

namespace smarketing {

struct HttpOptions {
  // host:port; port 0 picks a free one.
  std::string listen;
  // PEM files, as for gRPC: TLS when cert and key are set; client
  // certificates required when client_ca is set too.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
};

// What the pages read; owned by the caller and outliving the listener.
struct HttpDeps {
  Store* store = nullptr;
  Playbooks* playbooks = nullptr;
  const TokenTable* tokens = nullptr;
  ServiceMetrics* metrics = nullptr;
};

class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpOptions& options, HttpDeps deps);
  ~HttpServer();

  int port() const { return port_; }
  // Stops listening and waits for the requests in flight.
  void Stop();

 private:
  HttpServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_HTTP_SERVER_H_
