#include "gateway/http/structured_fields.h"

#include "gateway/crypto/keys.h"

namespace gw::sf {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<sf::Dictionary> ParseDict() {
    SkipSp();
    sf::Dictionary dict;
    while (!Done()) {
      GW_ASSIGN_OR_RETURN(std::string key, Key());
      Member m{key, Item{true, {}}};
      if (Peek() == '=') {
        ++pos_;
        if (Peek() == '(') {
          GW_ASSIGN_OR_RETURN(InnerList list, ParseInnerList());
          m.value = std::move(list);
        } else {
          GW_ASSIGN_OR_RETURN(Item item, ParseItem());
          m.value = std::move(item);
        }
      } else {
        GW_ASSIGN_OR_RETURN(Parameters p, Params());
        m.value = Item{true, std::move(p)};
      }
      // A later duplicate key overrides the earlier one (RFC 8941 §4.2.2).
      bool replaced = false;
      for (auto& existing : dict) {
        if (existing.key == m.key) {
          existing = m;
          replaced = true;
        }
      }
      if (!replaced) dict.push_back(std::move(m));
      SkipOws();
      if (Done()) break;
      if (Peek() != ',') return Fail("expected ',' between dictionary members");
      ++pos_;
      SkipOws();
      if (Done()) return Fail("trailing ',' in dictionary");
    }
    return dict;
  }

 private:
  bool Done() const { return pos_ >= s_.size(); }
  char Peek() const { return Done() ? '\0' : s_[pos_]; }
  void SkipSp() {
    while (Peek() == ' ') ++pos_;
  }
  void SkipOws() {
    while (Peek() == ' ' || Peek() == '\t') ++pos_;
  }
  Status Fail(const std::string& what) const {
    return Status::InvalidArgument("structured field: " + what + " at character " + std::to_string(pos_ + 1));
  }

  Result<std::string> Key() {
    char c = Peek();
    if (!((c >= 'a' && c <= 'z') || c == '*')) return Fail("a key must start with a-z or '*'");
    std::string key;
    while (!Done()) {
      c = Peek();
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*') {
        key += c;
        ++pos_;
      } else {
        break;
      }
    }
    return key;
  }

  Result<InnerList> ParseInnerList() {
    ++pos_;  // '('
    InnerList list;
    while (!Done()) {
      SkipSp();
      if (Peek() == ')') {
        ++pos_;
        GW_ASSIGN_OR_RETURN(list.params, Params());
        return list;
      }
      GW_ASSIGN_OR_RETURN(Item item, ParseItem());
      list.items.push_back(std::move(item));
      if (Peek() != ' ' && Peek() != ')') return Fail("expected ' ' or ')' in inner list");
    }
    return Fail("unterminated inner list");
  }

  Result<Item> ParseItem() {
    GW_ASSIGN_OR_RETURN(BareItem v, Bare());
    GW_ASSIGN_OR_RETURN(Parameters p, Params());
    return Item{std::move(v), std::move(p)};
  }

  Result<Parameters> Params() {
    Parameters params;
    while (Peek() == ';') {
      ++pos_;
      SkipSp();
      GW_ASSIGN_OR_RETURN(std::string key, Key());
      BareItem value = true;
      if (Peek() == '=') {
        ++pos_;
        GW_ASSIGN_OR_RETURN(value, Bare());
      }
      bool replaced = false;
      for (auto& [k, v] : params) {
        if (k == key) {
          v = value;
          replaced = true;
        }
      }
      if (!replaced) params.emplace_back(std::move(key), std::move(value));
    }
    return params;
  }

  Result<BareItem> Bare() {
    char c = Peek();
    if (c == '-' || (c >= '0' && c <= '9')) return Number();
    if (c == '"') return String();
    if (c == ':') return Bytes();
    if (c == '?') return Boolean();
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*') return TokenItem();
    return Fail("unexpected character");
  }

  Result<BareItem> Number() {
    size_t start = pos_;
    bool neg = Peek() == '-';
    if (neg) ++pos_;
    if (!(Peek() >= '0' && Peek() <= '9')) return Fail("a digit must follow '-'");
    std::string digits;
    bool decimal = false;
    while (!Done()) {
      char c = Peek();
      if (c >= '0' && c <= '9') {
        digits += c;
      } else if (c == '.' && !decimal) {
        if (digits.size() > 12) return Fail("decimal with too many integer digits");
        decimal = true;
        digits += c;
      } else {
        break;
      }
      ++pos_;
      if (!decimal && digits.size() > 15) return Fail("integer with more than 15 digits");
      if (decimal && digits.size() > 16) return Fail("decimal too long");
    }
    if (decimal) {
      if (digits.back() == '.') return Fail("decimal ends with '.'");
      if (digits.size() - digits.find('.') - 1 > 3) return Fail("decimal with more than 3 fraction digits");
      return BareItem(Decimal{std::string(s_.substr(start, pos_ - start))});
    }
    int64_t v = 0;
    for (char d : digits) v = v * 10 + (d - '0');
    return BareItem(neg ? -v : v);
  }

  Result<BareItem> String() {
    ++pos_;
    std::string out;
    while (!Done()) {
      char c = s_[pos_++];
      if (c == '\\') {
        if (Done()) return Fail("string ends in a backslash");
        char n = s_[pos_++];
        if (n != '"' && n != '\\') return Fail("bad escape in string");
        out += n;
      } else if (c == '"') {
        return BareItem(std::move(out));
      } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
        return Fail("string holds a character outside printable ASCII");
      } else {
        out += c;
      }
    }
    return Fail("unterminated string");
  }

  Result<BareItem> TokenItem() {
    std::string out;
    while (!Done()) {
      char c = Peek();
      bool tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   std::string_view("!#$%&'*+-.^_`|~:/").find(c) != std::string_view::npos;
      if (!tchar) break;
      out += c;
      ++pos_;
    }
    return BareItem(Token{std::move(out)});
  }

  Result<BareItem> Bytes() {
    ++pos_;
    size_t end = s_.find(':', pos_);
    if (end == std::string_view::npos) return Fail("unterminated byte sequence");
    std::string_view b64 = s_.substr(pos_, end - pos_);
    for (char c : b64) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
                c == '/' || c == '=';
      if (!ok) return Fail("byte sequence is not base64");
    }
    pos_ = end + 1;
    if (b64.empty()) return BareItem(ByteSeq{});
    auto bytes = FromBase64(b64);
    if (!bytes.ok()) return Fail("byte sequence is not valid base64");
    return BareItem(ByteSeq{std::move(bytes).value()});
  }

  Result<BareItem> Boolean() {
    ++pos_;
    char c = Peek();
    if (c != '0' && c != '1') return Fail("a boolean is ?0 or ?1");
    ++pos_;
    return BareItem(c == '1');
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<Dictionary> ParseDictionary(std::string_view text) { return Parser(text).ParseDict(); }

std::string SerializeBareItem(const BareItem& item) {
  struct Visitor {
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(const Decimal& d) const { return d.text; }
    std::string operator()(const std::string& s) const {
      std::string out = "\"";
      for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    std::string operator()(const Token& t) const { return t.value; }
    std::string operator()(const ByteSeq& b) const { return ":" + ToBase64(b.bytes) + ":"; }
    std::string operator()(bool b) const { return b ? "?1" : "?0"; }
  };
  return std::visit(Visitor{}, item);
}

std::string SerializeParams(const Parameters& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    out += ";" + k;
    if (const bool* b = std::get_if<bool>(&v); b && *b) continue;
    out += "=" + SerializeBareItem(v);
  }
  return out;
}

std::string SerializeInnerList(const InnerList& list) {
  std::string out = "(";
  for (size_t i = 0; i < list.items.size(); ++i) {
    if (i) out += " ";
    out += SerializeBareItem(list.items[i].value) + SerializeParams(list.items[i].params);
  }
  return out + ")" + SerializeParams(list.params);
}

const BareItem* FindParam(const Parameters& params, std::string_view key) {
  for (const auto& [k, v] : params)
    if (k == key) return &v;
  return nullptr;
}

const Member* FindMember(const Dictionary& dict, std::string_view key) {
  for (const auto& m : dict)
    if (m.key == key) return &m;
  return nullptr;
}

}  // namespace gw::sf
