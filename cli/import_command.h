// `smarketing import --server HOST:PORT FILE`: bulk import of leads into a
// running service. Built only with the server (it needs gRPC).
#ifndef SMARKETING_CLI_IMPORT_COMMAND_H_
#define SMARKETING_CLI_IMPORT_COMMAND_H_

namespace smarketing::cli {

// Runs `smarketing import` from the whole command line (argv[1] is
// "import"); returns the exit code.
int Import(int argc, char** argv);

}  // namespace smarketing::cli

#endif  // SMARKETING_CLI_IMPORT_COMMAND_H_
