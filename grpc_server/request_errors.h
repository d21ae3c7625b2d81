// Answers a request that cannot be decoded with INVALID_ARGUMENT saying so.
// gRPC's own answer is INTERNAL with an empty message (UNIMPLEMENTED for
// callback methods), which tells the client neither that the fault is its
// own nor what it is.
#ifndef SMARKETING_GRPC_SERVER_REQUEST_ERRORS_H_
#define SMARKETING_GRPC_SERVER_REQUEST_ERRORS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace smarketing {

// For ServerBuilder::experimental().SetInterceptorCreators.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
UndecodableRequestInterceptors();

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_REQUEST_ERRORS_H_
