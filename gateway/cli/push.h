// `gateway push`: a ministry's upload client. It runs the national adapter on
// the ministry's own machine, pseudonymises with the ministry's own pseudonym
// key, and uploads only shared-schema records (profile shared-v1) — or, with
// --raw, the national file as it is — signed per RFC 9421 with the ministry's
// Ed25519 key and carrying an RFC 9530 Content-Digest.
//
// Thread-safety: one call per process.
#pragma once

#include <ostream>

#include "gateway/cli/args.h"

namespace gw::cli {

// Exit codes as for ingest: 0 committed, 2 rejected, 1 other errors.
int Push(const Args& args, std::ostream& out, std::ostream& err);

}  // namespace gw::cli
