// The kgz-1 adapter: Kyrgyzstan's State Registration Service migrant register
// (UTF-8 XML in namespace urn:kg:grs:migrant-register:1), as specified in
// FORMATS.md. It registers itself in the AdapterRegistry as "kgz-1";
// NewAdapter() is for code and tests that want the adapter without going
// through the registry.
//
// Contract: gw::Adapter's, and in particular:
//  - The document is streamed through expat in 64 KiB chunks. Per Person only
//    the ten known child elements' texts are kept, each capped in length (a
//    longer one rejects the Person), so memory does not grow with the file.
//    What expat itself must buffer is bounded too: nesting deeper than 64
//    elements, or a single tag, comment or processing instruction longer than
//    8 MiB, is a whole-file fault. Duplicate PINs are deliberately not
//    detected here: the ingest pipeline checks duplicates on the hashed ID.
//  - A document type declaration or any entity declaration rejects the whole
//    file and no entity is ever expanded (only XML's five predefined entities
//    and character references are understood), so entity-expansion attacks
//    (billion laughs, external entities) cannot happen.
//  - Rows are the Person elements that are children of the MigrantRegister
//    root and in the profile's namespace, numbered from 1. Elements in any
//    other namespace (or none) are ignored with everything inside them, as
//    are unknown elements of the profile's namespace; ignored elements are not
//    rows.
//  - Malformed XML (including invalid UTF-8), a wrong or missing root, a
//    referenceDate other than the snapshot's, or a country other than KGZ is
//    a whole-file fault naming the line, column and Person ordinal.
//
// Thread-safety: one instance per run, used by one thread.
#pragma once

#include <memory>

#include "gateway/schema/adapter.h"

namespace gw::kgz1 {

// The XML namespace every element of the profile lives in.
inline constexpr char kNamespace[] = "urn:kg:grs:migrant-register:1";

std::unique_ptr<Adapter> NewAdapter();

}  // namespace gw::kgz1
