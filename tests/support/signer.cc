#include "support/signer.h"

#include <sodium.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gw::test {
namespace {

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string B64Encode(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (in.size() - i == 1) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string B64Decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = c == '\0' ? nullptr : std::strchr(kB64, c);
    if (p == nullptr) continue;  // '=', whitespace
    acc = (acc << 6) | uint32_t(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

std::string ContentDigest(std::string_view body) { return "sha-256=:" + B64Encode(Sha256(body)) + ":"; }

Keypair FromSeed(const std::string& seed) {
  REQUIRE(sodium_init() >= 0);
  REQUIRE(seed.size() == crypto_sign_SEEDBYTES);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(seed.data()));
  return {std::string(reinterpret_cast<char*>(pk), sizeof pk), std::string(reinterpret_cast<char*>(sk), sizeof sk)};
}

Keypair LoadKeyFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return FromSeed(B64Decode(text.str()));
}

Signed SignRequest(const SignSpec& s, const Keypair& key) {
  std::vector<std::pair<std::string, std::string>> covered = {
      {"@method", s.method}, {"@target-uri", s.target_uri}, {"content-digest", s.content_digest}};
  if (s.cover_content_type) covered.emplace_back("content-type", s.content_type);
  std::string params = "(";
  std::string base;
  for (size_t i = 0; i < covered.size(); ++i) {
    params += (i ? " \"" : "\"") + covered[i].first + "\"";
    base += "\"" + covered[i].first + "\": " + covered[i].second + "\n";
  }
  params += ");created=" + std::to_string(s.created) + ";keyid=\"" + s.keyid + "\";alg=\"ed25519\";nonce=\"" +
            s.nonce + "\"";
  base += "\"@signature-params\": " + params;
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(base.data()), base.size(),
                       reinterpret_cast<const unsigned char*>(key.sk.data()));
  Signed out;
  out.content_type = s.content_type;
  out.content_digest = s.content_digest;
  out.signature_input = "sig1=" + params;
  out.signature = "sig1=:" + B64Encode(std::string(reinterpret_cast<char*>(sig), sizeof sig)) + ":";
  return out;
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewNonce() {
  if (sodium_init() < 0) return {};
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  return B64Encode(std::string(reinterpret_cast<char*>(b), sizeof b));
}

std::vector<std::pair<std::string, std::string>> SignedUploadHeaders(
    uint16_t port, const std::string& target, std::string_view body, const std::string& content_type,
    const std::string& keyid, const Keypair& key, const std::string& nonce, int64_t created) {
  SignSpec spec;
  spec.target_uri = "http://127.0.0.1:" + std::to_string(port) + target;
  spec.content_type = content_type;
  spec.content_digest = ContentDigest(body);
  spec.keyid = keyid;
  spec.nonce = nonce;
  spec.created = created;
  Signed s = SignRequest(spec, key);
  return {{"Content-Type", content_type},
          {"Content-Digest", spec.content_digest},
          {"Signature-Input", s.signature_input},
          {"Signature", s.signature}};
}

}  // namespace gw::test
