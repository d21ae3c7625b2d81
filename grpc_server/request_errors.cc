#include "grpc_server/request_errors.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace smarketing {
namespace {

using grpc::experimental::InterceptionHookPoints;

class UndecodableRequestInterceptor final
    : public grpc::experimental::Interceptor {
 public:
  explicit UndecodableRequestInterceptor(
      grpc::experimental::ServerRpcInfo* info)
      : method_(info->method()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    // The server decodes the request of a unary call before the handler
    // runs, and passes no message on when it could not.
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      undecodable_ = true;
    }
    if (undecodable_ && methods->QueryInterceptionHookPoint(
                            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if ((status.error_code() == grpc::StatusCode::INTERNAL ||
           status.error_code() == grpc::StatusCode::UNIMPLEMENTED) &&
          status.error_message().empty()) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("the request could not be decoded as the request "
                         "message of ",
                         method_,
                         ": it is not that message serialized as protobuf")));
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  bool undecodable_ = false;
};

class Factory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // Streams read their messages in the handler, which reports what it
    // could not read itself.
    if (info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY) {
      return nullptr;
    }
    return new UndecodableRequestInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
UndecodableRequestInterceptors() {
  return std::make_unique<Factory>();
}

}  // namespace smarketing
