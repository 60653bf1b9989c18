// Key material on disk and the keyed hashes built from it (libsodium).
//
// Secret keys live in the deployment's keys/ folder as base64 text, mode 0600.
// Pseudonyms and token hashes are keyed BLAKE2b, so that a stolen database
// without the keys cannot be matched against a list of national IDs or tokens.
//
// Thread-safety: free functions are thread-safe; Pseudonymiser is immutable
// after construction.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/common/status.h"

namespace gw {

// Initialises libsodium once; safe to call from anywhere, any number of times.
void InitCrypto();

std::string RandomBytes(size_t n);
std::string ToHex(std::string_view bytes);
std::string ToBase64(std::string_view bytes);        // standard, padded
std::string ToBase64Url(std::string_view bytes);     // URL-safe, no padding
Result<std::string> FromBase64(std::string_view text);  // standard, padded; whitespace trimmed

// Writes `secret` base64-encoded to `path` with mode 0600. Refuses to
// overwrite an existing file (keys are never replaced silently).
Status WriteSecretKeyFile(const std::string& path, std::string_view secret);
// Reads a base64 key file; checks its length and that it is not readable by
// group or others.
Result<std::string> ReadSecretKeyFile(const std::string& path, size_t expected_bytes);

inline constexpr size_t kPseudonymKeyBytes = 32;
inline constexpr size_t kPersonKeyBytes = 16;
using PersonKey = std::array<uint8_t, kPersonKeyBytes>;

// Person keys: BLAKE2b-128 keyed with a country's pseudonym key, over the
// country code and the normalised national identifier.
class Pseudonymiser {
 public:
  Pseudonymiser(std::string country, std::string key);
  PersonKey KeyFor(std::string_view person_id) const;
  const std::string& country() const { return country_; }

 private:
  std::string country_;
  std::string key_;
};

// Keyed BLAKE2b-256 of a bearer token, as stored in the consumers table.
std::string HashToken(std::string_view token_key, std::string_view token);

// Constant-time comparison.
bool SecureEquals(std::string_view a, std::string_view b);

}  // namespace gw
