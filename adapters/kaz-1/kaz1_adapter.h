// The kaz-1 adapter: Kazakhstan's Migration Service register (CSV, ';',
// UTF-8 or RK1048), as specified in FORMATS.md. It registers itself in the
// AdapterRegistry as "kaz-1"; NewAdapter() is for code and tests that want
// the adapter without going through the registry.
//
// Contract: gw::Adapter's. Duplicate IINs are deliberately not detected here:
// the ingest pipeline checks duplicates on the hashed ID, so the adapter keeps
// no per-row state and its memory does not grow with the file.
//
// Thread-safety: one instance per run, used by one thread.
#pragma once

#include <memory>

#include "gateway/schema/adapter.h"

namespace gw::kaz1 {

std::unique_ptr<Adapter> NewAdapter();

}  // namespace gw::kaz1
