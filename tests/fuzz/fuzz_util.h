// What the fuzz targets share: stopping on a broken property with a message
// libFuzzer keeps next to the input that broke it.
#ifndef SMARKETING_TESTS_FUZZ_FUZZ_UTIL_H_
#define SMARKETING_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"

namespace smarketing::fuzz {

// Aborts, which libFuzzer reports as a crash with the input saved.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "property broken: %s\n", what.c_str());
  std::abort();
}

inline void Check(bool holds, const std::string& what) {
  if (!holds) Fail(what);
}

// Deterministic bytes, so that two equal messages compare equal.
inline std::string Bytes(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace smarketing::fuzz

#endif  // SMARKETING_TESTS_FUZZ_FUZZ_UTIL_H_
