// A parser and serialiser for the parts of RFC 8941 (Structured Field Values
// for HTTP) that RFC 9421 signatures and RFC 9530 digests use: dictionaries
// whose members are items or inner lists, with parameters. Bare items:
// integers, decimals (kept as text), strings, tokens, byte sequences, booleans.
//
// Parsing is strict, per RFC 8941 §4.2: anything malformed fails the whole
// field, and the caller must then ignore the field (here: refuse the request).
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "gateway/common/status.h"

namespace gw::sf {

struct Token {
  std::string value;
  bool operator==(const Token&) const = default;
};
struct ByteSeq {
  std::string bytes;  // decoded
  bool operator==(const ByteSeq&) const = default;
};
struct Decimal {
  std::string text;
  bool operator==(const Decimal&) const = default;
};
using BareItem = std::variant<int64_t, Decimal, std::string, Token, ByteSeq, bool>;
using Parameters = std::vector<std::pair<std::string, BareItem>>;

struct Item {
  BareItem value;
  Parameters params;
};
struct InnerList {
  std::vector<Item> items;
  Parameters params;
};
struct Member {
  std::string key;
  std::variant<Item, InnerList> value;
};
using Dictionary = std::vector<Member>;

Result<Dictionary> ParseDictionary(std::string_view text);

std::string SerializeBareItem(const BareItem& item);
std::string SerializeParams(const Parameters& params);
std::string SerializeInnerList(const InnerList& list);

const BareItem* FindParam(const Parameters& params, std::string_view key);
const Member* FindMember(const Dictionary& dict, std::string_view key);

}  // namespace gw::sf
