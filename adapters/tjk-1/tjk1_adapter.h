// The tjk-1 adapter: Tajikistan's Ministry of Internal Affairs register (CSV,
// ',', UTF-8), as specified in FORMATS.md. It registers itself in the
// AdapterRegistry as "tjk-1"; NewAdapter() is for code and tests that want
// the adapter without going through the registry.
//
// Contract: gw::Adapter's. The case-file number is the person ID; duplicates
// are deliberately not detected here: the ingest pipeline checks them on the
// hashed ID, so the adapter keeps no per-row state and its memory does not
// grow with the file.
//
// Thread-safety: one instance per run, used by one thread.
#pragma once

#include <memory>

#include "gateway/schema/adapter.h"

namespace gw::tjk1 {

std::unique_ptr<Adapter> NewAdapter();

}  // namespace gw::tjk1
