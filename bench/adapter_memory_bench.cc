// adapter-memory-bench: runs one registered adapter over a national file
// through a sink that only counts (no storage, no hashing), and prints one
// line:
//
//   profile=kaz-1 rows=N valid=N errors=N bytes=N seconds=S mb_per_s=X
//   cpu_seconds=C mb_per_cpu_s=X peak_rss_mb=Y base_rss_mb=Z expired=N
//   cells=N cell_total=N status=ok
//
// (on one line). MB are 10^6 bytes. seconds is wall-clock time of the run;
// cpu_seconds its user + system CPU time, which is the steadier figure on a
// shared machine (wall time includes waiting for a core). peak_rss_mb is VmHWM of /proc/self/status
// after the run, i.e. the process's peak resident set including code, ICU data
// pages touched and the code lists; base_rss_mb is VmHWM just before the
// adapter starts, so peak - base is what the run itself added. `rows` is
// valid + errors (data rows the adapter reported on).
//
//   adapter-memory-bench --profile P [--charset C] --ref-date YYYY-MM-DD
//                        [--country ABC] [--show-errors N] [--stats] FILE
//   adapter-memory-bench --list
//
// --show-errors N prints the first N row errors (row, field, kind) and the
// count per kind to standard error; --stats adds the distribution of the
// records' dimensions (it costs time: leave it off when measuring speed).
//
// Exit status: 0 when the adapter returned OK, 1 when it returned a whole-file
// fault (printed as status=... and on standard error), 2 for usage errors.
//
// Thread-safety: a single-threaded program.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/common/byte_source.h"
#include "gateway/common/date.h"
#include "gateway/schema/adapter.h"
#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"

namespace {

constexpr char kUsage[] =
    "usage: adapter-memory-bench --profile P [--charset C] --ref-date YYYY-MM-DD\n"
    "                            [--country ABC] [--show-errors N] [--stats] FILE\n"
    "       adapter-memory-bench --list\n";

// VmHWM (peak resident set) of this process, in bytes; 0 if unknown.
uint64_t PeakRssBytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) {
      kb = std::strtoull(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

// User + system CPU time of this process, in seconds.
double CpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A small histogram with a bound on distinct keys, so that a faulty adapter
// emitting endless distinct values cannot make the bench itself grow.
class Histogram {
 public:
  void Add(const std::string& key) {
    auto it = counts_.find(key);
    if (it != counts_.end()) {
      ++it->second;
    } else if (counts_.size() < kMaxKeys) {
      counts_.emplace(key, 1);
    } else {
      ++other_;
    }
  }
  void Print(const char* title) const {
    std::fprintf(stderr, "  %s:", title);
    for (const auto& [key, n] : counts_) {
      std::fprintf(stderr, " %s=%llu", key.c_str(), static_cast<unsigned long long>(n));
    }
    if (other_ > 0) std::fprintf(stderr, " (other)=%llu", static_cast<unsigned long long>(other_));
    std::fprintf(stderr, "\n");
  }

 private:
  static constexpr size_t kMaxKeys = 300;
  std::map<std::string, uint64_t> counts_;
  uint64_t other_ = 0;
};

class CountingSink : public gw::RecordSink {
 public:
  CountingSink(gw::Date ref_date, uint64_t show_errors, bool stats)
      : ref_date_(ref_date), show_errors_(show_errors), stats_(stats) {}

  gw::Status OnPerson(uint64_t, gw::PersonRecord&& person) override {
    ++persons_;
    if (!gw::InStock(person, ref_date_)) ++expired_;
    if (stats_) {
      pop_.Add(person.pop_type);
      coo_.Add(person.coo);
      sex_.Add(person.sex);
      age_.Add(person.age);
      region_.Add(person.region);
    }
    return gw::Status::Ok();
  }
  gw::Status OnCell(uint64_t, gw::CellRecord&& cell) override {
    ++cells_;
    cell_total_ += cell.count;
    if (stats_) {
      pop_.Add(cell.pop_type);
      coo_.Add(cell.coo);
      sex_.Add(cell.sex);
      age_.Add(cell.age);
      region_.Add(cell.region);
    }
    return gw::Status::Ok();
  }
  gw::Status OnRowError(gw::RowError&& error) override {
    ++errors_;
    if (show_errors_ > 0) {
      kinds_.Add(error.kind);
      if (errors_ <= show_errors_) {
        std::fprintf(stderr, "  row %llu: %s [%s] %s\n", static_cast<unsigned long long>(error.row),
                     error.kind.c_str(), error.field.c_str(), error.reason.c_str());
      }
    }
    return gw::Status::Ok();
  }

  void PrintDetails() const {
    if (show_errors_ > 0) kinds_.Print("errors by kind");
    if (stats_) {
      pop_.Print("pop_type");
      sex_.Print("sex");
      age_.Print("age");
      coo_.Print("coo");
      region_.Print("region");
    }
  }

  uint64_t persons_ = 0, cells_ = 0, errors_ = 0, expired_ = 0;
  int64_t cell_total_ = 0;

 private:
  gw::Date ref_date_;
  uint64_t show_errors_;
  bool stats_;
  Histogram kinds_, pop_, coo_, sex_, age_, region_;
};

[[noreturn]] void Usage(const std::string& message) {
  std::fprintf(stderr, "adapter-memory-bench: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string profile, charset, ref_text, country, path;
  uint64_t show_errors = 0;
  bool stats = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--list") {
      for (const gw::AdapterInfo* info : gw::AdapterRegistry::Global().All()) {
        std::printf("%s\n", info->profile.c_str());
      }
      return 0;
    }
    if (arg == "--stats") {
      stats = true;
      continue;
    }
    if (arg.size() > 2 && arg.substr(0, 2) == "--") {
      if (i + 1 >= argc) Usage(std::string(arg) + " needs a value");
      const std::string value = argv[++i];
      if (arg == "--profile") {
        profile = value;
      } else if (arg == "--charset") {
        charset = value;
      } else if (arg == "--ref-date") {
        ref_text = value;
      } else if (arg == "--country") {
        country = value;
      } else if (arg == "--show-errors") {
        show_errors = std::strtoull(value.c_str(), nullptr, 10);
      } else {
        Usage("unknown option " + std::string(arg));
      }
      continue;
    }
    if (!path.empty()) Usage("exactly one FILE is required");
    path = std::string(arg);
  }
  if (profile.empty() || ref_text.empty() || path.empty()) {
    Usage("--profile, --ref-date and FILE are required");
  }
  const std::optional<gw::Date> ref_date = gw::ParseIsoDate(ref_text);
  if (!ref_date) Usage("--ref-date must be a real date YYYY-MM-DD");
  const gw::AdapterInfo* info = gw::AdapterRegistry::Global().Find(profile);
  if (info == nullptr) {
    std::string known;
    for (const gw::AdapterInfo* a : gw::AdapterRegistry::Global().All()) {
      known += (known.empty() ? "" : ", ") + a->profile;
    }
    Usage("no adapter is registered for profile " + profile + " (registered: " + known + ")");
  }
  if (country.empty()) country = info->country.empty() ? "UNK" : info->country;

  auto file = gw::FileSource::Open(path);
  if (!file.ok()) {
    std::fprintf(stderr, "adapter-memory-bench: %s\n", file.status().message().c_str());
    return 2;
  }
  uint64_t bytes = 0;
  gw::ObservedSource counted(**file, [&bytes](std::string_view chunk) { bytes += chunk.size(); });

  // Build the code lists before measuring: every adapter uses them, and they
  // belong to the process, not to the file.
  (void)gw::CodeLists::Get();
  CountingSink sink(*ref_date, show_errors, stats);
  const gw::AdapterContext context{country, *ref_date, charset};
  const uint64_t base_rss = PeakRssBytes();

  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<gw::Adapter> adapter = info->create();
  const gw::Status status = adapter->Run(counted, context, sink);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_seconds = CpuSeconds() - cpu_start;
  const uint64_t peak_rss = PeakRssBytes();
  adapter.reset();

  const uint64_t valid = sink.persons_ + sink.cells_;
  std::printf(
      "profile=%s rows=%llu valid=%llu errors=%llu bytes=%llu seconds=%.3f mb_per_s=%.1f "
      "cpu_seconds=%.3f mb_per_cpu_s=%.1f peak_rss_mb=%.1f base_rss_mb=%.1f expired=%llu "
      "cells=%llu cell_total=%lld status=%s\n",
      profile.c_str(), static_cast<unsigned long long>(valid + sink.errors_),
      static_cast<unsigned long long>(valid), static_cast<unsigned long long>(sink.errors_),
      static_cast<unsigned long long>(bytes), seconds,
      seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0, cpu_seconds,
      cpu_seconds > 0 ? static_cast<double>(bytes) / 1e6 / cpu_seconds : 0.0,
      static_cast<double>(peak_rss) / 1e6, static_cast<double>(base_rss) / 1e6,
      static_cast<unsigned long long>(sink.expired_), static_cast<unsigned long long>(sink.cells_),
      static_cast<long long>(sink.cell_total_), status.ok() ? "ok" : gw::CodeName(status.code()));
  std::fflush(stdout);
  sink.PrintDetails();
  if (!status.ok()) {
    std::fprintf(stderr, "adapter-memory-bench: the adapter failed: %s\n",
                 status.ToString().c_str());
    return 1;
  }
  return 0;
}
