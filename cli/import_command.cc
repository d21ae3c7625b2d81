// `smarketing import`: loads a file of leads with their events (JSON lines
// or CSV, read as `score` reads them) into a running smarketing-server
// through LeadService.ImportLeads. Takes its own arguments, apart from the
// flags of the local commands, so that the command line built without gRPC
// is unchanged.
#include "cli/import_command.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "core/leads/lead_io.h"
#include "smarketing/v1/lead_service.grpc.pb.h"

namespace smarketing::cli {
namespace {

constexpr int kOk = 0;
constexpr int kRejected = 1;
constexpr int kUsageError = 2;

// A request stops growing past this size, whatever --batch says, so that a
// batch of leads with long histories stays below the server's message
// limit (--max_message_bytes, 32 MiB by default).
constexpr size_t kMaxRequestBytes = 4 << 20;

constexpr char kImportUsage[] =
    R"(usage: smarketing import --server HOST:PORT [flags] FILE

Loads leads with their events (JSON lines, or .csv; "-" for standard input)
into smarketing-server. Idempotent by lead id and event id: run the same
command again to resume an interrupted import; what is stored already is
left alone. Refused records are listed as FILE:LINE: field: message.

Flags:
  --server=HOST:PORT   the service (required)
  --token_file=FILE    file holding the bearer token (marketing or admin);
                       default: the SMARKETING_TOKEN environment variable
  --tls_ca=PEM         speak TLS, trusting these CA certificates
  --batch=N            leads per request, each committed at once (1000;
                       fewer when they pass 4 MiB)

Exit codes: 0 all imported, 1 some records refused, 2 usage, input or
connection error.
)";

struct ImportFlags {
  std::string server;
  std::string token_file;
  std::string tls_ca;
  // Each request is one transaction on the server: a disk sync each.
  int batch = 1000;
  std::string file;
};

int Usage(absl::string_view message) {
  std::cerr << "smarketing import: " << message << "\n\n" << kImportUsage;
  return kUsageError;
}

// --name=value or --name value; dashes and underscores alike.
bool ParseFlags(int argc, char** argv, ImportFlags* flags, std::string* error) {
  std::vector<std::string> positional;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-" || !absl::StartsWith(arg, "--")) {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      *error = absl::StrCat("--", name, " needs a value");
      return false;
    }
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    if (name == "server") {
      flags->server = value;
    } else if (name == "token_file") {
      flags->token_file = value;
    } else if (name == "tls_ca") {
      flags->tls_ca = value;
    } else if (name == "batch") {
      if (!absl::SimpleAtoi(value, &flags->batch) || flags->batch < 1 ||
          flags->batch > 1000) {
        *error = absl::StrCat("--batch must be in [1, 1000]; found ", value);
        return false;
      }
    } else {
      *error = absl::StrCat("unknown flag --", name);
      return false;
    }
  }
  if (flags->server.empty()) {
    *error = "--server is required";
    return false;
  }
  if (positional.size() != 1) {
    *error = "give one FILE of leads";
    return false;
  }
  flags->file = positional[0];
  return true;
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1 << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is too large"));
  }
  return text.str();
}

absl::StatusOr<std::string> Token(const ImportFlags& flags) {
  std::string token;
  if (!flags.token_file.empty()) {
    auto text = ReadSmallFile(flags.token_file);
    if (!text.ok()) return text.status();
    token = std::string(absl::StripAsciiWhitespace(*text));
  } else if (const char* env = std::getenv("SMARKETING_TOKEN")) {
    token = std::string(absl::StripAsciiWhitespace(env));
  }
  if (token.empty()) {
    return absl::InvalidArgumentError(
        "no token: give --token_file or set SMARKETING_TOKEN");
  }
  return token;
}

// Progress on standard error when it is a terminal, at most a few times a
// second.
class Progress {
 public:
  Progress() : shown_(isatty(STDERR_FILENO) == 1), start_(absl::Now()) {}
  void Update(int64_t sent, bool final = false) {
    if (!shown_) return;
    const absl::Time now = absl::Now();
    if (!final && now - last_ < absl::Milliseconds(250)) return;
    last_ = now;
    const double seconds = absl::ToDoubleSeconds(now - start_);
    std::fprintf(stderr, "\r%lld leads sent, %.0f/s, %.0fs",
                 static_cast<long long>(sent),
                 seconds > 0 ? sent / seconds : 0.0, seconds);
    if (final) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool shown_;
  absl::Time start_;
  absl::Time last_ = absl::InfinitePast();
};

void PrintRejection(const std::string& file, int64_t line,
                    absl::string_view field, absl::string_view message) {
  std::cerr << file << ":" << line << ": "
            << (field.empty() ? "" : absl::StrCat(field, ": ")) << message
            << "\n";
}

// TLS when --tls_ca names the authority's certificate.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const ImportFlags& flags) {
  if (flags.tls_ca.empty()) return grpc::InsecureChannelCredentials();
  auto ca = ReadSmallFile(flags.tls_ca);
  if (!ca.ok()) return ca.status();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *ca;
  return grpc::SslCredentials(ssl);
}

struct StreamedLeads {
  int64_t sent = 0;
  // Records the reader could not read, reported here and never sent.
  int64_t unreadable = 0;
};

// Sends the leads of `reader` in batches of `batch` until the file ends or
// the server closes the stream.
StreamedLeads StreamLeads(LeadReader& reader, int batch,
                          grpc::ClientWriter<v1::ImportLeadsRequest>& writer,
                          Progress& progress) {
  StreamedLeads streamed;
  bool stream_broken = false;
  v1::ImportLeadsRequest request;
  size_t request_bytes = 0;
  auto flush = [&] {
    if (request.records_size() == 0 || stream_broken) return;
    if (!writer.Write(request)) stream_broken = true;
    streamed.sent += request.records_size();
    request.Clear();
    request_bytes = 0;
    progress.Update(streamed.sent);
  };
  v1::Lead lead;
  for (;;) {
    lead.Clear();
    absl::StatusOr<bool> more = reader.Next(&lead);
    if (!more.ok()) {
      // A malformed record is reported here, as the reader words it (file,
      // line and field); the server never sees it.
      ++streamed.unreadable;
      std::cerr << more.status().message() << "\n";
      continue;
    }
    if (!*more) break;
    v1::ImportRecord* record = request.add_records();
    record->set_line(reader.line());
    *record->mutable_lead() = std::move(lead);
    request_bytes += record->ByteSizeLong();
    if (request.records_size() >= batch || request_bytes >= kMaxRequestBytes) {
      flush();
    }
    if (stream_broken) break;
  }
  flush();
  return streamed;
}

// The refused records, then the counts.
void PrintOutcome(const ImportFlags& flags,
                  const v1::ImportLeadsResponse& response, int64_t unreadable) {
  for (const v1::ImportRejection& rejection : response.rejections()) {
    PrintRejection(flags.file, rejection.line(), rejection.field(),
                   rejection.message());
  }
  if (response.rejected() > response.rejections_size()) {
    std::cerr << "... and " << response.rejected() - response.rejections_size()
              << " more refused records\n";
  }
  std::cout << "received " << response.received() << ", created "
            << response.created() << ", updated " << response.updated()
            << ", unchanged " << response.unchanged() << ", refused "
            << response.rejected() + unreadable << ", unreadable " << unreadable
            << "; events recorded " << response.events_recorded()
            << ", already stored " << response.events_duplicate() << "\n";
}

}  // namespace

int Import(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kImportUsage;
      return kOk;
    }
  }
  ImportFlags flags;
  std::string error;
  if (!ParseFlags(argc, argv, &flags, &error)) return Usage(error);
  auto token = Token(flags);
  if (!token.ok()) return Usage(token.status().message());
  auto credentials = Credentials(flags);
  if (!credentials.ok()) return Usage(credentials.status().message());
  auto reader = LeadReader::Open(flags.file);
  if (!reader.ok()) return Usage(reader.status().message());

  auto channel = grpc::CreateChannel(flags.server, *credentials);
  auto stub = v1::LeadService::NewStub(channel);
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", *token));
  v1::ImportLeadsResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::ImportLeadsRequest>> writer =
      stub->ImportLeads(&context, &response);

  Progress progress;
  const StreamedLeads streamed =
      StreamLeads(**reader, flags.batch, *writer, progress);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  progress.Update(streamed.sent, /*final=*/true);
  if (!status.ok()) {
    std::cerr << "smarketing import: the server refused the import ("
              << status.error_code() << "): " << status.error_message()
              << "\nRun the same command again to resume: what was stored "
                 "is left alone.\n";
    return kUsageError;
  }
  PrintOutcome(flags, response, streamed.unreadable);
  return response.rejected() + streamed.unreadable > 0 ? kRejected : kOk;
}

}  // namespace smarketing::cli
