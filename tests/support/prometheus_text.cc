#include "support/prometheus_text.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>

namespace gw::test {
namespace {

bool IsNameChar(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return colon_ok;
  return !first && c >= '0' && c <= '9';
}

// Reads a name at `pos`; empty if there is none.
std::string ReadName(std::string_view line, size_t* pos, bool colon_ok) {
  size_t start = *pos;
  while (*pos < line.size() && IsNameChar(line[*pos], *pos == start, colon_ok)) ++*pos;
  return std::string(line.substr(start, *pos - start));
}

// Parses a sample value the way Prometheus does for the spellings the format
// allows; the whole token must be consumed.
std::optional<double> ParseValue(std::string_view token) {
  if (token == "+Inf") return HUGE_VAL;
  if (token == "-Inf") return -HUGE_VAL;
  if (token == "NaN") return std::nan("");
  if (token.empty()) return std::nullopt;
  std::string text(token);
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  // strtod also accepts "inf", "nan" and hex floats; the format does not.
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return std::nullopt;
    }
  }
  return value;
}

// The family a sample belongs to: its own name, or for histograms the name
// without _bucket/_sum/_count.
std::string FamilyOf(const Exposition& exposition, const std::string& sample_name) {
  if (exposition.families.count(sample_name)) return sample_name;
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (sample_name.size() > suffix.size() &&
        sample_name.compare(sample_name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string base = sample_name.substr(0, sample_name.size() - suffix.size());
      auto it = exposition.families.find(base);
      if (it != exposition.families.end() && it->second.type == "histogram") return base;
    }
  }
  return "";
}

}  // namespace

std::string ParseExposition(std::string_view text, Exposition* exposition) {
  if (text.empty() || text.back() != '\n') return "output must end with a newline";
  std::string current;  // the family whose samples may follow
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    std::string where = "line " + std::to_string(line_number) + ": " + std::string(line);
    if (line.empty()) return where + ": blank line";

    if (line[0] == '#') {
      bool help = line.substr(0, 7) == "# HELP ";
      bool type = line.substr(0, 7) == "# TYPE ";
      if (!help && !type) return where + ": comment that is neither HELP nor TYPE";
      size_t pos = 7;
      std::string name = ReadName(line, &pos, true);
      if (name.empty()) return where + ": no metric name";
      Family& family = exposition->families[name];
      if (help) {
        if (!family.help.empty() || !family.type.empty() || !family.samples.empty()) {
          return where + ": HELP repeated or after TYPE/samples";
        }
        if (pos < line.size() && line[pos] != ' ') return where + ": bad character after name";
        std::string_view docstring = pos < line.size() ? line.substr(pos + 1) : "";
        family.help = "HELP:" + std::string(docstring);  // non-empty marks "seen"
        exposition->order.push_back(name);
        current = name;
      } else {
        if (current != name || family.help.empty()) return where + ": TYPE without HELP before";
        if (!family.type.empty()) return where + ": TYPE repeated";
        if (pos >= line.size() || line[pos] != ' ') return where + ": no type";
        std::string_view type_name = line.substr(pos + 1);
        if (type_name != "counter" && type_name != "gauge" && type_name != "histogram") {
          return where + ": unknown type";
        }
        family.type = std::string(type_name);
      }
      continue;
    }

    Sample sample;
    size_t pos = 0;
    sample.name = ReadName(line, &pos, true);
    if (sample.name.empty()) return where + ": no sample name";
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (true) {
        std::string label = ReadName(line, &pos, false);
        if (label.empty()) return where + ": bad label name";
        if (pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
          return where + ": expected =\" after label name";
        }
        pos += 2;
        std::string value;
        while (true) {
          if (pos >= line.size()) return where + ": unterminated label value";
          char c = line[pos++];
          if (c == '"') break;
          if (c == '\\') {
            if (pos >= line.size()) return where + ": dangling backslash";
            char escaped = line[pos++];
            switch (escaped) {
              case '\\':
                value += '\\';
                break;
              case '"':
                value += '"';
                break;
              case 'n':
                value += '\n';
                break;
              default:
                return where + ": unknown escape";
            }
          } else {
            value += c;
          }
        }
        if (!sample.labels.emplace(label, value).second) return where + ": repeated label";
        if (pos < line.size() && line[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < line.size() && line[pos] == '}') {
          ++pos;
          break;
        }
        return where + ": expected , or }";
      }
    }
    if (pos >= line.size() || line[pos] != ' ') return where + ": expected a space before value";
    std::optional<double> value = ParseValue(line.substr(pos + 1));
    if (!value) return where + ": bad value";
    sample.value = *value;

    std::string family_name = FamilyOf(*exposition, sample.name);
    if (family_name.empty()) return where + ": sample of an undeclared family";
    if (family_name != current) return where + ": sample not right after its family's header";
    Family& family = exposition->families[family_name];
    if (family.type.empty()) return where + ": sample before TYPE";
    if (family.type != "histogram" && sample.name != family_name) {
      return where + ": suffixed sample in a non-histogram family";
    }
    family.samples.push_back(std::move(sample));
  }
  return "";
}

Exposition MustParseExposition(const std::string& text) {
  Exposition exposition;
  std::string error = ParseExposition(text, &exposition);
  INFO(text);
  REQUIRE(error == "");
  return exposition;
}

std::optional<double> SampleValue(const Exposition& exposition, const std::string& name,
                                  const Labels& labels) {
  std::optional<double> found;
  for (const auto& [family_name, family] : exposition.families) {
    for (const Sample& sample : family.samples) {
      if (sample.name == name && sample.labels == labels) {
        if (found) return std::nullopt;  // duplicated series
        found = sample.value;
      }
    }
  }
  return found;
}

}  // namespace gw::test
