// Unicode text helpers (ICU): validation, normalisation and the comparison
// key used for headers and code values (NFC, trimmed, case-folded); and the
// ASCII-only helpers protocol tokens need.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gw {

// True if `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// NFC normalisation of UTF-8 text. Invalid UTF-8 yields nullopt.
std::optional<std::string> ToNfc(std::string_view utf8);

// The comparison key: NFC, Unicode white space trimmed at both ends and runs of
// inner white space collapsed to one space, then full case folding (and NFC
// again, as folding may denormalise). Invalid UTF-8 yields an empty string.
std::string FoldKey(std::string_view utf8);

// Trims ASCII and Unicode white space (incl. NBSP) at both ends.
std::string_view TrimSpace(std::string_view utf8);

// ASCII letters lower-cased, other bytes kept: for protocol tokens (header
// names, media types, codings, charset names), which are ASCII and compared
// without case, never for people's text (FoldKey).
std::string AsciiLower(std::string_view s);

// `s` without the spaces and tabs at either end: HTTP's optional white space
// (RFC 9110 section 5.6.3) around field values and list elements.
std::string_view TrimOws(std::string_view s);

// Appends `utf8` to `out` as a JSON string literal: quotes, '"' and '\\'
// escaped, control characters as \u00XX. Other bytes are copied, so `utf8`
// must be valid UTF-8 (the values on the query path are codes and
// percent-encoded text).
void AppendJsonString(std::string& out, std::string_view utf8);

}  // namespace gw
