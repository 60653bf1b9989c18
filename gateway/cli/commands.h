// The `gateway` command line (contract in PRODUCT.md): init, ingest, serve,
// consumer add, policy check, each with --help. Exit codes: 0 success; for
// ingest 2 when the snapshot is rejected; 1 on any other error, with the
// message on stderr.
//
// Thread-safety: Run is called once per process (serve installs signal handling).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace gw::cli {

// Runs `gateway <argv...>` (argv without the program name).
int Run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace gw::cli
