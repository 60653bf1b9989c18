// HTTP Message Signatures (RFC 9421) with Ed25519, and Content-Digest
// (RFC 9530), as the gateway uses them: ministries sign uploads, the gateway
// signs its responses. The same code serves the server (verify) and the push
// client (sign); tests check it against an independent implementation.
//
// Supported derived components: @method, @target-uri, @authority, @scheme,
// @path, @query, @status. Header components are lower-case field names whose
// value is the field value with surrounding whitespace removed.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/common/status.h"
#include "gateway/crypto/signing.h"
#include "gateway/http/structured_fields.h"

namespace gw::http {

// Where component values come from: a request (method, target URI, headers)
// or a response (status, headers).
struct SignatureContext {
  std::string method;      // requests
  std::string target_uri;  // requests: scheme://authority/path?query
  int status = 0;          // responses
  std::function<std::optional<std::string>(std::string_view lower_name)> header;
};

struct ParsedSignature {
  std::string label;
  std::vector<std::string> components;  // covered component identifiers, in order
  sf::InnerList input;                  // the Signature-Input member as parsed
  std::string signature;                // raw bytes
  std::optional<int64_t> created, expires;
  std::string keyid, alg, nonce;

  bool Covers(std::string_view component) const;
};

// Parses the Signature-Input and Signature fields and returns the signature
// named `label`, or the first one if `label` is empty. Errors say what is wrong.
Result<ParsedSignature> ParseSignature(std::string_view signature_input, std::string_view signature,
                                       std::string_view label = {});

// The signature base (RFC 9421 §2.5) for `components` with `params_text`
// (the serialised inner list, as used in the @signature-params line).
Result<std::string> SignatureBase(const std::vector<std::string>& components,
                                  const std::string& params_text, const SignatureContext& ctx);

// Checks an Ed25519 signature over the base built from `ctx`.
Status VerifySignature(const ParsedSignature& sig, const SignatureContext& ctx,
                       std::string_view public_key);

struct SignOptions {
  std::string label = "sig1";
  std::vector<std::string> components;
  int64_t created = 0;
  std::optional<std::string> nonce;
  std::optional<int64_t> expires;
};

struct SignatureHeaders {
  std::string signature_input;  // value of Signature-Input
  std::string signature;        // value of Signature
};

Result<SignatureHeaders> Sign(const SignOptions& options, const SignatureContext& ctx,
                              const SigningKey& key);

// "sha-256=:<base64>:" for `body`.
std::string ContentDigestSha256(std::string_view body);
// The same field from a SHA-256 computed elsewhere (32 raw bytes).
std::string ContentDigestFromSha256(std::string_view raw_sha256);

// The strongest supported digest in a Content-Digest field.
struct ExpectedDigest {
  std::string algorithm;  // "sha-512" or "sha-256"
  std::string digest;     // raw bytes
};
Result<ExpectedDigest> ParseContentDigest(std::string_view field);

// Incremental digest in the algorithm of an ExpectedDigest.
class StreamingDigest {
 public:
  explicit StreamingDigest(std::string algorithm);
  void Update(std::string_view bytes);
  std::string Final();

 private:
  std::string algorithm_;
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace gw::http
