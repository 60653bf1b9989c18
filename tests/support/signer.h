// An INDEPENDENT implementation of RFC 9421 (HTTP Message Signatures, Ed25519)
// and RFC 9530 (Content-Digest, sha-256) for tests, written on libsodium alone
// (crypto_sign_detached, crypto_hash_sha256) with its own base64: nothing
// from gateway/http/message_signatures.h, so a shared misreading of the RFCs
// would not go unnoticed. Used by the upload, crash, soak and storage-fault
// tests to sign PUT /v1/snapshots/{country}/{ref_date} requests.
//
// Thread-safety: pure functions (sodium_init() must have been called; the
// helpers below call it themselves).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::test {

std::string B64Encode(std::string_view in);
std::string B64Decode(std::string_view in);
std::string Sha256(std::string_view data);

// RFC 9530 Content-Digest with sha-256 (a Structured Field dictionary with a
// byte sequence).
std::string ContentDigest(std::string_view body);

struct Keypair {
  std::string pk, sk;  // raw
};

Keypair FromSeed(const std::string& seed);
// What `gateway keygen` wrote: the base64 seed.
Keypair LoadKeyFile(const std::string& path);

struct Signed {
  std::string content_type, content_digest, signature_input, signature;
};

struct SignSpec {
  std::string method = "PUT";
  std::string target_uri;  // http://authority/path?query
  std::string content_type;
  std::string content_digest;
  std::string keyid;
  std::string nonce;
  int64_t created = 0;
  bool cover_content_type = true;
};

// RFC 9421 §2.5: one line per covered component, `"name": value`, then the
// @signature-params line whose value is the serialised inner list that also
// goes into Signature-Input.
Signed SignRequest(const SignSpec& s, const Keypair& key);

int64_t Now();  // unix seconds
std::string NewNonce();

// The headers of a signed upload of `body` to `target` (path and query) on
// 127.0.0.1:port: Content-Type, Content-Digest, Signature-Input, Signature.
std::vector<std::pair<std::string, std::string>> SignedUploadHeaders(
    uint16_t port, const std::string& target, std::string_view body, const std::string& content_type,
    const std::string& keyid, const Keypair& key, const std::string& nonce, int64_t created);

}  // namespace gw::test
