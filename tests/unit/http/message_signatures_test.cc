#include <catch2/catch.hpp>

#include "gateway/crypto/keys.h"
#include "gateway/http/message_signatures.h"

namespace gw::http {
namespace {

std::string FromB64Url(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s += '=';
  return *FromBase64(s);
}

// RFC 9421 Appendix B.1.4 test key ("test-key-ed25519").
SigningKey RfcKey() { return *SigningKey::FromSecret(FromB64Url("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU")); }

SignatureContext RfcRequest() {
  SignatureContext ctx;
  ctx.method = "POST";
  ctx.target_uri = "https://example.com/foo?param=Value&Pet=dog";
  ctx.header = [](std::string_view name) -> std::optional<std::string> {
    if (name == "date") return "Tue, 20 Apr 2021 02:07:55 GMT";
    if (name == "content-type") return "application/json";
    if (name == "content-length") return " 18 ";
    return std::nullopt;
  };
  return ctx;
}

}  // namespace

TEST_CASE("RFC 9421 B.2.6: the ed25519 example signature base and signature", "[signatures]") {
  SigningKey key = RfcKey();
  CHECK(key.public_key() == FromB64Url("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"));
  const std::string input =
      R"(sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519")";
  const std::string signature =
      "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
  auto parsed = ParseSignature(input, signature);
  REQUIRE(parsed.ok());
  CHECK(parsed->label == "sig-b26");
  CHECK(parsed->keyid == "test-key-ed25519");
  CHECK(parsed->created == 1618884473);
  auto base = SignatureBase(parsed->components, sf::SerializeInnerList(parsed->input), RfcRequest());
  REQUIRE(base.ok());
  CHECK(*base ==
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
        "\"@method\": POST\n"
        "\"@path\": /foo\n"
        "\"@authority\": example.com\n"
        "\"content-type\": application/json\n"
        "\"content-length\": 18\n"
        "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" "
        "\"content-length\");created=1618884473;keyid=\"test-key-ed25519\"");
  CHECK(VerifySignature(*parsed, RfcRequest(), key.public_key()).ok());
  // Ed25519 is deterministic: signing the same base reproduces the RFC's bytes.
  CHECK(ToBase64(key.Sign(*base)) == signature.substr(9, signature.size() - 10));
}

TEST_CASE("a key's keyid is the first 16 hex digits of SHA-256 of its public key", "[signatures]") {
  SigningKey rfc = RfcKey();
  // RFC 9421 B.1.4's public key, JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs.
  CHECK(rfc.public_key() == FromB64Url("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"));
  CHECK(rfc.keyid() == "b16c2d1bead12626");
  CHECK(KeyIdFor(rfc.public_key()) == rfc.keyid());
  SigningKey other = SigningKey::Generate();
  CHECK(other.keyid() == KeyIdFor(other.public_key()));
  CHECK(other.keyid() != rfc.keyid());
}

TEST_CASE("signatures made by Sign verify, and any change breaks them", "[signatures]") {
  SigningKey key = SigningKey::Generate();
  SignatureContext ctx;
  ctx.method = "PUT";
  ctx.target_uri = "http://127.0.0.1:8080/v1/snapshots/KAZ/2015-06-30?profile=kaz-1";
  std::string digest = ContentDigestSha256("a;b\r\n");
  ctx.header = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "content-digest") return digest;
    if (name == "content-type") return "text/csv";
    return std::nullopt;
  };
  SignOptions o;
  o.components = {"@method", "@target-uri", "content-digest", "content-type"};
  o.created = 1700000000;
  o.nonce = "n-1";
  auto headers = Sign(o, ctx, key);
  REQUIRE(headers.ok());
  CHECK(headers->signature_input.find("alg=\"ed25519\"") != std::string::npos);
  auto parsed = ParseSignature(headers->signature_input, headers->signature);
  REQUIRE(parsed.ok());
  CHECK(parsed->keyid == key.keyid());
  CHECK(parsed->nonce == "n-1");
  CHECK(parsed->alg == "ed25519");
  CHECK(VerifySignature(*parsed, ctx, key.public_key()).ok());

  SignatureContext other = ctx;
  other.method = "POST";
  CHECK_FALSE(VerifySignature(*parsed, other, key.public_key()).ok());
  other = ctx;
  other.target_uri += "&partial=true";
  CHECK_FALSE(VerifySignature(*parsed, other, key.public_key()).ok());
  digest = ContentDigestSha256("tampered");
  CHECK_FALSE(VerifySignature(*parsed, ctx, key.public_key()).ok());
  CHECK_FALSE(VerifySignature(*parsed, ctx, SigningKey::Generate().public_key()).ok());
}

TEST_CASE("malformed signature fields are refused with a reason", "[signatures]") {
  CHECK_FALSE(ParseSignature("", "sig1=:AAAA:").ok());
  CHECK_FALSE(ParseSignature("sig1=(\"@method\"", "sig1=:AAAA:").ok());
  CHECK_FALSE(ParseSignature("sig1=(\"@method\");created=1", "sig2=:AAAA:").ok());
  CHECK_FALSE(ParseSignature("sig1=(\"@method\" \"@method\")", "sig1=:AAAA:").ok());
  CHECK_FALSE(ParseSignature("sig1=(\"@method\");created=\"x\"", "sig1=:AAAA:").ok());
  CHECK_FALSE(ParseSignature("sig1=(\"@method\")", "sig1=\"notbytes\"").ok());
  CHECK_FALSE(ParseSignature("sig1=(@method)", "sig1=:AAAA:").ok());
}

TEST_CASE("Content-Digest parsing picks the strongest supported algorithm", "[signatures]") {
  std::string d = ContentDigestSha256("hello");
  auto parsed = ParseContentDigest(d);
  REQUIRE(parsed.ok());
  CHECK(parsed->algorithm == "sha-256");
  StreamingDigest s("sha-256");
  s.Update("hel");
  s.Update("lo");
  CHECK(s.Final() == parsed->digest);
  CHECK_FALSE(ParseContentDigest("md5=:AAAA:").ok());
  CHECK_FALSE(ParseContentDigest("sha-256=:AAAA:").ok());
  CHECK_FALSE(ParseContentDigest("sha-256=abc").ok());
  auto both = ParseContentDigest(d + ", sha-512=:" + ToBase64(std::string(64, 'x')) + ":");
  REQUIRE(both.ok());
  CHECK(both->algorithm == "sha-512");
}

}  // namespace gw::http
