// Ingest: national file -> adapter -> pseudonymisation -> one snapshot.
//
// The pipeline reads the file once, streaming: the adapter validates and maps
// each row; this layer hashes the national identifier into a person key,
// detects duplicates (on the key, in the store, so memory does not grow with
// the file), counts the stock per cell, and commits the snapshot all at once.
//
//  - Strict (default): one invalid row rejects the whole snapshot; the receipt
//    lists every invalid row and nothing is stored.
//  - Partial: the valid rows are committed; the receipt lists every rejected row.
//  - Content identical to the current version of (country, ref_date) makes no
//    new version and returns that version's receipt.
//  - Whole-file faults (missing column, bad charset, empty file, ...) give a
//    rejected receipt with "error" set.
//
// Ingest returns a non-OK Status only for faults that are not the file's
// (I/O, database, missing keys, an unknown profile or bad arguments).
//
// Thread-safety: thread-safe; concurrent ingests are serialised by the store.
#pragma once

#include <functional>
#include <string>

#include "gateway/common/byte_source.h"
#include "gateway/common/date.h"
#include "gateway/common/status.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/ingest/receipt.h"
#include "gateway/storage/store.h"

namespace gw {

struct IngestRequest {
  std::string country;  // reporting country, alpha-3
  Date ref_date;
  std::string profile;  // e.g. "kaz-1"
  std::string charset;  // empty: the profile's default
  bool partial = false;
  std::string actor = "cli";  // for the audit log: "cli", "ministry:KAZ/<keyid>", ...
  // Called once the whole input has been read and before anything is
  // committed (e.g. to check an upload's Content-Digest); an error aborts the
  // ingest, storing nothing, and is returned as is.
  std::function<Status()> verify_before_commit = nullptr;
};

// Checks the request against the adapter registry and code lists before any
// byte is read (unknown profile, a profile of another country, a charset the
// profile does not accept).
Status ValidateIngestRequest(const IngestRequest& request);

class Ingestor {
 public:
  Ingestor(Store& store, KeyRing& keys) : store_(store), keys_(keys) {}
  // Commits and refusals are recorded in the audit chain.
  Result<Receipt> Ingest(const IngestRequest& request, ByteSource& input);

 private:
  Result<Receipt> IngestUnaudited(const IngestRequest& request, ByteSource& input);
  Store& store_;
  KeyRing& keys_;
};

}  // namespace gw
