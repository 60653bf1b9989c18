// The RFC 9421 Signature-Input / Signature parser and the RFC 8941 structured
// fields it builds on. The input is split at the first newline into the two
// header values (Signature-Input, then Signature; no newline: an empty
// Signature). Checks:
//   - each value that parses as a dictionary serialises to text that parses
//     again to the same serialisation (a fixed point after one round);
//   - an accepted signature is consistent (label, components without
//     repetition or parameters), and its serialised Signature-Input parses
//     again to the same signature;
//   - the signature base and the verification over a fixed request (the
//     RFC 9421 B.2 example request and test key) do not crash, and a
//     successful base holds no raw line break inside a component value.
// Any crash, sanitizer report or broken invariant (__builtin_trap) is a finding.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/crypto/keys.h"
#include "gateway/http/message_signatures.h"
#include "gateway/http/structured_fields.h"

namespace {

namespace sf = gw::sf;

// A dictionary written back with the library's own serialisers (RFC 8941 §4.1.2).
std::string SerializeDictionary(const sf::Dictionary& dict) {
  std::string out;
  for (const auto& m : dict) {
    if (!out.empty()) out += ", ";
    out += m.key;
    if (const auto* list = std::get_if<sf::InnerList>(&m.value)) {
      out += "=" + sf::SerializeInnerList(*list);
    } else {
      const auto& item = std::get<sf::Item>(m.value);
      const bool* b = std::get_if<bool>(&item.value);
      if (!(b && *b)) out += "=" + sf::SerializeBareItem(item.value);
      out += sf::SerializeParams(item.params);
    }
  }
  return out;
}

void CheckDictionaryRoundTrip(std::string_view text) {
  auto dict = sf::ParseDictionary(text);
  if (!dict.ok()) {
    if (dict.status().message().empty()) __builtin_trap();
    return;
  }
  const std::string once = SerializeDictionary(*dict);
  auto again = sf::ParseDictionary(once);
  if (!again.ok()) __builtin_trap();
  if (again->size() != dict->size()) __builtin_trap();
  if (SerializeDictionary(*again) != once) __builtin_trap();
}

const gw::http::SignatureContext& RfcRequest() {
  static const gw::http::SignatureContext ctx = [] {
    gw::http::SignatureContext c;
    c.method = "POST";
    c.target_uri = "https://example.com/foo?param=Value&Pet=dog";
    c.header = [](std::string_view name) -> std::optional<std::string> {
      if (name == "date") return "Tue, 20 Apr 2021 02:07:55 GMT";
      if (name == "content-type") return "application/json";
      if (name == "content-length") return " 18 ";
      if (name == "content-digest") {
        return "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
      }
      return std::nullopt;
    };
    return c;
  }();
  return ctx;
}

const std::string& RfcPublicKey() {
  // RFC 9421 Appendix B.1.4 "test-key-ed25519".
  static const std::string key = *gw::FromBase64("JrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=");
  return key;
}

bool SameSignature(const gw::http::ParsedSignature& a, const gw::http::ParsedSignature& b) {
  return a.label == b.label && a.components == b.components && a.signature == b.signature &&
         a.created == b.created && a.expires == b.expires && a.keyid == b.keyid && a.alg == b.alg &&
         a.nonce == b.nonce;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view signature_input = input.substr(0, nl);
  std::string_view signature = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);

  CheckDictionaryRoundTrip(signature_input);
  CheckDictionaryRoundTrip(signature);
  (void)gw::http::ParseContentDigest(signature);

  auto parsed = gw::http::ParseSignature(signature_input, signature);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) __builtin_trap();
    return 0;
  }
  const auto& p = *parsed;
  if (p.label.empty()) __builtin_trap();
  if (p.components.size() != p.input.items.size()) __builtin_trap();
  for (size_t i = 0; i < p.components.size(); ++i) {
    if (!p.input.items[i].params.empty()) __builtin_trap();
    if (!p.Covers(p.components[i])) __builtin_trap();
    for (size_t j = 0; j < i; ++j) {
      if (p.components[i] == p.components[j]) __builtin_trap();
    }
  }

  // The Signature-Input member as the gateway re-serialises it (the
  // @signature-params line) must parse to the same signature.
  const std::string params_text = sf::SerializeInnerList(p.input);
  auto again = gw::http::ParseSignature(p.label + "=" + params_text, signature, p.label);
  if (!again.ok() || !SameSignature(p, *again)) __builtin_trap();
  if (sf::SerializeInnerList(again->input) != params_text) __builtin_trap();

  // Looking the signature up by its label gives the same one.
  auto by_label = gw::http::ParseSignature(signature_input, signature, p.label);
  if (!by_label.ok() || !SameSignature(p, *by_label)) __builtin_trap();

  auto base = gw::http::SignatureBase(p.components, params_text, RfcRequest());
  if (base.ok()) {
    // One line per component plus the @signature-params line.
    size_t lines = 1;
    for (char c : *base) lines += c == '\n';
    if (lines != p.components.size() + 1 || base->find('\r') != std::string::npos) __builtin_trap();
  }
  (void)gw::http::VerifySignature(p, RfcRequest(), RfcPublicKey());
  return 0;
}
