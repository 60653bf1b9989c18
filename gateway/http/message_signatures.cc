#include "gateway/http/message_signatures.h"

#include <algorithm>

#include "gateway/common/text.h"
#include "gateway/crypto/digest.h"
#include "gateway/crypto/keys.h"

namespace gw::http {
namespace {

struct UriParts {
  std::string scheme, authority, path, query;
};

std::optional<UriParts> SplitUri(const std::string& uri) {
  size_t colon = uri.find("://");
  if (colon == std::string::npos) return std::nullopt;
  UriParts p;
  p.scheme = uri.substr(0, colon);
  p.scheme = AsciiLower(p.scheme);
  size_t start = colon + 3;
  size_t slash = uri.find_first_of("/?", start);
  p.authority = uri.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  p.authority = AsciiLower(p.authority);
  std::string rest = slash == std::string::npos ? "" : uri.substr(slash);
  size_t q = rest.find('?');
  p.path = rest.substr(0, q);
  if (p.path.empty()) p.path = "/";
  p.query = q == std::string::npos ? "?" : rest.substr(q);
  return p;
}

Result<std::string> ComponentValue(const std::string& id, const SignatureContext& ctx) {
  if (id.empty()) return Status::InvalidArgument("empty component identifier");
  if (id[0] == '@') {
    if (id == "@method") {
      if (ctx.method.empty()) return Status::InvalidArgument("@method is not available here");
      return ctx.method;
    }
    if (id == "@status") {
      if (ctx.status == 0) return Status::InvalidArgument("@status is only for responses");
      return std::to_string(ctx.status);
    }
    if (id == "@target-uri") {
      if (ctx.target_uri.empty()) return Status::InvalidArgument("@target-uri is not available here");
      return ctx.target_uri;
    }
    auto parts = SplitUri(ctx.target_uri);
    if (!parts) return Status::InvalidArgument(id + " is not available here");
    if (id == "@authority") return parts->authority;
    if (id == "@scheme") return parts->scheme;
    if (id == "@path") return parts->path;
    if (id == "@query") return parts->query;
    return Status::InvalidArgument("unsupported derived component " + id);
  }
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
      return Status::InvalidArgument("component names must be lower-case field names");
    }
  }
  auto v = ctx.header ? ctx.header(id) : std::nullopt;
  if (!v) return Status::InvalidArgument("the signed field " + id + " is missing from the message");
  return std::string(TrimOws(*v));
}

std::string ParamsText(const ParsedSignature& sig) { return sf::SerializeInnerList(sig.input); }

}  // namespace

bool ParsedSignature::Covers(std::string_view component) const {
  return std::find(components.begin(), components.end(), component) != components.end();
}

Result<ParsedSignature> ParseSignature(std::string_view signature_input, std::string_view signature,
                                       std::string_view label) {
  auto inputs = sf::ParseDictionary(signature_input);
  if (!inputs.ok()) return inputs.status().WithContext("Signature-Input");
  auto sigs = sf::ParseDictionary(signature);
  if (!sigs.ok()) return sigs.status().WithContext("Signature");
  if (inputs->empty()) return Status::InvalidArgument("Signature-Input is empty");
  const sf::Member* in = label.empty() ? &inputs->front() : sf::FindMember(*inputs, label);
  if (in == nullptr) return Status::InvalidArgument("no signature labelled " + std::string(label));
  ParsedSignature p;
  p.label = in->key;
  const auto* list = std::get_if<sf::InnerList>(&in->value);
  if (list == nullptr) return Status::InvalidArgument("Signature-Input member must be an inner list");
  p.input = *list;
  for (const auto& item : list->items) {
    const auto* name = std::get_if<std::string>(&item.value);
    if (name == nullptr) return Status::InvalidArgument("covered components must be strings");
    if (!item.params.empty()) {
      return Status::InvalidArgument("component parameters (e.g. ;sf, ;key) are not supported");
    }
    if (std::find(p.components.begin(), p.components.end(), *name) != p.components.end()) {
      return Status::InvalidArgument("component " + *name + " is listed twice");
    }
    p.components.push_back(*name);
  }
  for (const auto& [k, v] : list->params) {
    if (k == "created" || k == "expires") {
      const auto* n = std::get_if<int64_t>(&v);
      if (n == nullptr) return Status::InvalidArgument(k + " must be an integer");
      (k == "created" ? p.created : p.expires) = *n;
    } else if (k == "keyid" || k == "alg" || k == "nonce" || k == "tag") {
      const auto* s = std::get_if<std::string>(&v);
      if (s == nullptr) return Status::InvalidArgument(k + " must be a string");
      if (k == "keyid") p.keyid = *s;
      if (k == "alg") p.alg = *s;
      if (k == "nonce") p.nonce = *s;
    }
  }
  const sf::Member* sig = sf::FindMember(*sigs, p.label);
  if (sig == nullptr) return Status::InvalidArgument("Signature has no member " + p.label);
  const auto* item = std::get_if<sf::Item>(&sig->value);
  const auto* bytes = item ? std::get_if<sf::ByteSeq>(&item->value) : nullptr;
  if (bytes == nullptr) return Status::InvalidArgument("Signature member must be a byte sequence");
  p.signature = bytes->bytes;
  return p;
}

Result<std::string> SignatureBase(const std::vector<std::string>& components,
                                  const std::string& params_text, const SignatureContext& ctx) {
  std::string base;
  for (const auto& id : components) {
    GW_ASSIGN_OR_RETURN(std::string value, ComponentValue(id, ctx));
    if (value.find('\n') != std::string::npos || value.find('\r') != std::string::npos) {
      return Status::InvalidArgument("component " + id + " holds a line break");
    }
    base += "\"" + id + "\": " + value + "\n";
  }
  base += "\"@signature-params\": " + params_text;
  return base;
}

Status VerifySignature(const ParsedSignature& sig, const SignatureContext& ctx,
                       std::string_view public_key) {
  GW_ASSIGN_OR_RETURN(std::string base, SignatureBase(sig.components, ParamsText(sig), ctx));
  if (!VerifyEd25519(public_key, base, sig.signature)) {
    return Status::Unauthenticated("the signature does not verify");
  }
  return Status::Ok();
}

Result<SignatureHeaders> Sign(const SignOptions& o, const SignatureContext& ctx, const SigningKey& key) {
  sf::InnerList list;
  for (const auto& c : o.components) list.items.push_back(sf::Item{c, {}});
  list.params.emplace_back("created", o.created);
  if (o.expires) list.params.emplace_back("expires", *o.expires);
  list.params.emplace_back("keyid", key.keyid());
  list.params.emplace_back("alg", std::string("ed25519"));
  if (o.nonce) list.params.emplace_back("nonce", *o.nonce);
  std::string params = sf::SerializeInnerList(list);
  GW_ASSIGN_OR_RETURN(std::string base, SignatureBase(o.components, params, ctx));
  return SignatureHeaders{o.label + "=" + params, o.label + "=:" + ToBase64(key.Sign(base)) + ":"};
}

std::string ContentDigestSha256(std::string_view body) {
  return ContentDigestFromSha256(Sha256Of(body));
}

std::string ContentDigestFromSha256(std::string_view raw_sha256) { return "sha-256=:" + ToBase64(raw_sha256) + ":"; }

Result<ExpectedDigest> ParseContentDigest(std::string_view field) {
  auto dict = sf::ParseDictionary(field);
  if (!dict.ok()) return dict.status().WithContext("Content-Digest");
  for (const char* alg : {"sha-512", "sha-256"}) {
    const sf::Member* m = sf::FindMember(*dict, alg);
    if (m == nullptr) continue;
    const auto* item = std::get_if<sf::Item>(&m->value);
    const auto* bytes = item ? std::get_if<sf::ByteSeq>(&item->value) : nullptr;
    size_t want = std::string_view(alg) == "sha-512" ? 64 : 32;
    if (bytes == nullptr || bytes->bytes.size() != want) {
      return Status::InvalidArgument(std::string("Content-Digest: ") + alg + " must be a byte sequence of " +
                                     std::to_string(want) + " bytes");
    }
    return ExpectedDigest{alg, bytes->bytes};
  }
  return Status::InvalidArgument("Content-Digest must carry sha-256 or sha-512");
}

struct StreamingDigest::State {
  Sha256 sha256;
  Sha512 sha512;
};

StreamingDigest::StreamingDigest(std::string algorithm)
    : algorithm_(std::move(algorithm)), state_(std::make_shared<State>()) {}

void StreamingDigest::Update(std::string_view bytes) {
  if (algorithm_ == "sha-512") {
    state_->sha512.Update(bytes);
  } else {
    state_->sha256.Update(bytes);
  }
}

std::string StreamingDigest::Final() {
  return algorithm_ == "sha-512" ? state_->sha512.Final() : state_->sha256.Final();
}

}  // namespace gw::http
