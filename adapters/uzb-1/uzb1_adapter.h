// The uzb-1 adapter: Uzbekistan's Ministry of Internal Affairs export (one
// UTF-8 JSON document), as specified in FORMATS.md. It registers itself in the
// AdapterRegistry as "uzb-1"; NewAdapter() is for code and tests that want the
// adapter without going through the registry.
//
// Contract: gw::Adapter's. The document is streamed through nlohmann::json's
// SAX parser; only the current `yozuvlar` item's fields are kept, so memory
// does not grow with the number of items. A single JSON token (string,
// number, run of white space) longer than 8 MiB is refused as a whole-file
// fault for the same reason. Duplicate PINFLs are deliberately not detected
// here: the ingest pipeline checks duplicates on the hashed ID.
//
// `eksport` may come before or after `yozuvlar`. When it comes first, a wrong
// `holat_sanasi` stops the run before any item is read; when it comes after,
// the items are emitted as they stream past and the file is refused at the end
// (a whole-file fault, so the pipeline rolls back whatever was emitted). The
// reference date used for ages is the snapshot's, which `holat_sanasi` must
// equal, so no item ever needs to be held back.
//
// Thread-safety: one instance per run, used by one thread.
#pragma once

#include <memory>

#include "gateway/schema/adapter.h"

namespace gw::uzb1 {

std::unique_ptr<Adapter> NewAdapter();

}  // namespace gw::uzb1
