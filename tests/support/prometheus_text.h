// A strict reader of the Prometheus text format 0.0.4 as the gateway's
// /metrics writes it (gateway/http/metrics.h), for the tests: the unit test of
// Metrics checks the format with it, and the integration tests read counters
// from a running server's /metrics through it.
//
// Thread-safety: free functions without shared state; MustParseExposition
// uses Catch2's REQUIRE, so call it from the test's own thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::test {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // as written, e.g. "x_bucket"
  Labels labels;
  double value = 0;
};

struct Family {
  std::string help;
  std::string type;
  std::vector<Sample> samples;
};

struct Exposition {
  std::map<std::string, Family> families;
  std::vector<std::string> order;  // family names as declared
};

// Every line is "# HELP name text", "# TYPE name counter|gauge|histogram" or a
// sample "name{label="value",...} value" (no timestamps, no other comments, no
// blank lines). Each family gets exactly one HELP then one TYPE, before its
// samples, and its samples follow directly. Returns an error naming the line,
// or "" when `text` is well-formed.
std::string ParseExposition(std::string_view text, Exposition* exposition);

// ParseExposition, which must succeed (REQUIRE).
Exposition MustParseExposition(const std::string& text);

// The value of the one sample called `name` with exactly `labels`; nothing if
// there is none or more than one.
std::optional<double> SampleValue(const Exposition& exposition, const std::string& name,
                                  const Labels& labels = {});

}  // namespace gw::test
