// gwgen: a fast, deterministic generator of national files in the five
// profiles of FORMATS.md, for benchmarks and load tests.
//
//   gwgen --profile P (--persons N | --min-bytes B) [--seed S]
//         [--ref-date YYYY-MM-DD] [--invalid-rate R] [--out FILE|-]
//
// Every row that is not deliberately broken is valid under its profile:
// national IDs carry correct check digits and agree with the birth date and
// sex columns, and IDs are unique within the file. Uniqueness needs no set of
// issued IDs: an ID is (birth date, sex, serial) or (registration year,
// serial), and the serial comes from a fixed-size counter per date (or year),
// permuted so that consecutive serials do not look consecutive. Memory is
// constant (the 16 MiB output buffer and under 1 MB of counters) whatever the
// file size.
//
// Deterministic: the output depends only on the arguments. The PRNG is
// xoshiro256** seeded through splitmix64, and every draw is done with integer
// arithmetic here (no <random> distributions, whose output differs between
// standard libraries).
//
// Fast: rows are formatted straight into a 16 MiB buffer with memcpy and
// hand-written digit output, and written with write(2); nothing is allocated
// per row.
//
// With --invalid-rate R, each row is broken with probability R in one of the
// profile's known ways (ProfileSpec::kinds below); the counts per kind are printed to
// standard error at the end, with the number of valid, expired and in-stock
// rows, so that a run of an adapter over the file can be checked against them.
//
// Thread-safety: a single-threaded program.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---------------------------------------------------------------------------
// Command line, errors.

[[noreturn]] void Die(const char* fmt, const char* arg = "") {
  std::fprintf(stderr, "gwgen: ");
  std::fprintf(stderr, fmt, arg);
  std::fprintf(stderr, "\n");
  std::exit(2);
}

constexpr char kUsage[] =
    "usage: gwgen --profile P (--persons N | --min-bytes B) [--seed S]\n"
    "             [--ref-date YYYY-MM-DD] [--invalid-rate R] [--out FILE|-]\n"
    "\n"
    "Writes a national file in profile P (kaz-1 CSV UTF-8, kgz-1 XML, tjk-1 CSV,\n"
    "tkm-1 aggregate CSV, uzb-1 JSON) to FILE or standard output (default -).\n"
    "  --persons N       number of person rows; for tkm-1 the total of the counts\n"
    "  --min-bytes B     instead of --persons: write rows until the file holds at\n"
    "                    least B bytes (not for tkm-1)\n"
    "  --seed S          PRNG seed (default 1); same arguments, same bytes\n"
    "  --ref-date D      the snapshot's reference date (default 2023-12-31,\n"
    "                    between 1995-01-01 and 2099-12-31)\n"
    "  --invalid-rate R  fraction of rows broken in a known way (default 0)\n"
    "A summary (rows, valid, expired, in stock, broken rows by kind) goes to\n"
    "standard error. Broken kinds are named as in samples/EXPECTED.md; duplicate_id\n"
    "is a copy of the previous valid row. For tkm-1, bad_count and duplicate_id\n"
    "make the adapter refuse the whole file.\n";

// ---------------------------------------------------------------------------
// PRNG: xoshiro256**, seeded through splitmix64.

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& w : s_) w = SplitMix64(seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n), n < 2^32 (multiply-shift; the bias is below 2^-32 * n).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  // True with probability per_mille / 1000.
  bool PerMille(uint32_t per_mille) { return Below(1000) < per_mille; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A discrete distribution over 0..n-1 from integer weights.
class Weighted {
 public:
  void Add(int item, uint32_t weight) {
    if (weight == 0) return;
    total_ += weight;
    items_.push_back(item);
    cumulative_.push_back(total_);
  }
  bool empty() const { return items_.empty(); }
  int Draw(Rng& rng) const {
    const uint32_t r = rng.Below(total_);
    size_t i = 0;
    while (cumulative_[i] <= r) ++i;
    return items_[i];
  }

 private:
  std::vector<int> items_;
  std::vector<uint32_t> cumulative_;
  uint32_t total_ = 0;
};

// ---------------------------------------------------------------------------
// Civil dates as day numbers (days since 1970-01-01), after H. Hinnant.

int32_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Ymd {
  int y, m, d;
};

Ymd CivilFromDays(int32_t z) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

int32_t LastDayOfMonth(int y, int m) {
  return m == 12 ? DaysFromCivil(y + 1, 1, 1) - 1 : DaysFromCivil(y, m + 1, 1) - 1;
}

// ---------------------------------------------------------------------------
// Output: one big buffer, write(2).

class Output {
 public:
  static constexpr size_t kCapacity = 16u << 20;
  static constexpr size_t kMaxRow = 8192;  // no row is longer

  explicit Output(int fd) : fd_(fd), buffer_(kCapacity) {}
  // A cursor with room for kMaxRow bytes.
  char* Begin() {
    if (len_ + kMaxRow > kCapacity) Flush();
    return buffer_.data() + len_;
  }
  void End(char* p) { len_ = static_cast<size_t>(p - buffer_.data()); }
  uint64_t bytes() const { return flushed_ + len_; }
  void Flush() {
    const char* p = buffer_.data();
    size_t left = len_;
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        Die("write failed: %s", std::strerror(errno));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    flushed_ += len_;
    len_ = 0;
  }

 private:
  int fd_;
  std::vector<char> buffer_;
  size_t len_ = 0;
  uint64_t flushed_ = 0;
};

inline char* Put(char* p, std::string_view s) {
  // An empty view may have a null data(): memcpy from null is undefined even for 0 bytes (UBSan).
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
inline char* Put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}
inline char* Put4(char* p, int v) {
  Put2(p, v / 100);
  return Put2(p + 2, v % 100);
}
// `width` digits of v, zero-padded.
inline char* PutDigits(char* p, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}
inline char* PutUint(char* p, uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

// Date layouts of the profiles. `unknown`: 0 full date, 1 day unknown, 2 day
// and month unknown, 3 all unknown (written with 00 / 0000 where the profile
// does so).
enum class DateStyle { kDotDmy, kSlashDmy, kIso };

char* PutDate(char* p, int32_t day, DateStyle style, int unknown = 0) {
  const Ymd c = CivilFromDays(day);
  const int y = unknown >= 3 ? 0 : c.y;
  const int m = unknown >= 2 ? 0 : c.m;
  const int d = unknown >= 1 ? 0 : c.d;
  switch (style) {
    case DateStyle::kDotDmy:
    case DateStyle::kSlashDmy: {
      const char sep = style == DateStyle::kDotDmy ? '.' : '/';
      p = Put2(p, d);
      *p++ = sep;
      p = Put2(p, m);
      *p++ = sep;
      return Put4(p, y);
    }
    case DateStyle::kIso:
      // kgz-1 writes an incomplete birth date as YYYY-MM or YYYY.
      p = Put4(p, c.y);
      if (unknown >= 2) return p;
      *p++ = '-';
      p = Put2(p, c.m);
      if (unknown >= 1) return p;
      *p++ = '-';
      return Put2(p, c.d);
  }
  return p;
}

// A date that is not a real date, in the profile's layout.
char* PutImpossibleDate(char* p, int year, DateStyle style) {
  switch (style) {
    case DateStyle::kDotDmy:
      p = Put(p, "31.02.");
      return Put4(p, year);
    case DateStyle::kSlashDmy:
      p = Put(p, "31/02/");
      return Put4(p, year);
    case DateStyle::kIso:
      p = Put4(p, year);
      return Put(p, "-02-30");
  }
  return p;
}

// ---------------------------------------------------------------------------
// Shared dimensions.

enum Pop { kRef, kAsy, kSta, kMig, kPopCount };

struct Country {
  const char* alpha3;
  const char* numeric;  // ISO 3166-1 numeric; null for XXA/UNK
  const char* tajik;    // tjk-1 name; null when tjk-1 has none
};

constexpr Country kCountries[] = {
    {"AFG", "004", "Афғонистон"},   {"IRN", "364", "Эрон"},         {"PAK", "586", "Покистон"},
    {"SYR", "760", "Сурия"},        {"IRQ", "368", "Ироқ"},         {"UZB", "860", "Ӯзбекистон"},
    {"KGZ", "417", "Қирғизистон"},  {"KAZ", "398", "Қазоқистон"},   {"TKM", "795", "Туркманистон"},
    {"RUS", "643", "Русия"},        {"UKR", "804", "Украина"},      {"CHN", "156", "Чин"},
    {"IND", "356", "Ҳиндустон"},    {"TUR", "792", "Туркия"},       {"AZE", "031", "Озарбойҷон"},
    {"ARM", "051", "Арманистон"},   {"GEO", "268", "Гурҷистон"},    {"BLR", "112", "Беларус"},
    {"MDA", "498", "Молдова"},      {"BGD", "050", "Бангладеш"},    {"YEM", "887", "Яман"},
    {"SOM", "706", "Сомалӣ"},       {"TJK", "762", nullptr},        {"XXA", nullptr, "бешаҳрванд"},
    {"UNK", nullptr, "номаълум"},
};
constexpr int kCountryCount = static_cast<int>(std::size(kCountries));

int CountryIndex(std::string_view alpha3) {
  for (int i = 0; i < kCountryCount; ++i)
    if (alpha3 == kCountries[i].alpha3) return i;
  Die("internal: no country %s", std::string(alpha3).c_str());
}

struct CountryWeight {
  const char* alpha3;
  uint32_t weight;
};

// Origins by population type: refugees and asylum seekers from the region's
// conflicts, stateless persons mostly without any nationality, labour migrants
// from the neighbours.
constexpr CountryWeight kRefugeeOrigins[] = {
    {"AFG", 520}, {"SYR", 90}, {"UKR", 80}, {"IRN", 60}, {"IRQ", 50}, {"PAK", 40},
    {"YEM", 30},  {"SOM", 30}, {"RUS", 20}, {"UNK", 20}, {"CHN", 15}, {"BGD", 10},
    {"IND", 10},  {"UZB", 10}, {"TJK", 10}, {"ARM", 5},  {"AZE", 5},  {"GEO", 5},
};
constexpr CountryWeight kStatelessOrigins[] = {
    {"XXA", 850}, {"UNK", 50}, {"UZB", 25}, {"RUS", 25}, {"KGZ", 15}, {"TJK", 15},
    {"TKM", 10},  {"KAZ", 10},
};
constexpr CountryWeight kMigrantOrigins[] = {
    {"UZB", 340}, {"TJK", 200}, {"KGZ", 110}, {"RUS", 80}, {"CHN", 60}, {"TKM", 40},
    {"KAZ", 40},  {"TUR", 40},  {"AZE", 20},  {"UKR", 20}, {"AFG", 15}, {"IND", 10},
    {"PAK", 10},  {"ARM", 5},   {"GEO", 5},   {"BLR", 5},  {"MDA", 5},  {"BGD", 5},
};

// Age bands at the reference date.
enum Band { kB0_4, kB5_11, kB12_17, kB18_59, kB60, kBandCount };
constexpr std::array<std::array<uint32_t, kBandCount>, kPopCount> kBandWeights = {{
    {110, 150, 100, 570, 70},  // REF
    {110, 150, 100, 570, 70},  // ASY
    {70, 100, 80, 550, 200},   // STA
    {10, 20, 20, 930, 20},     // MIG
}};

// ---------------------------------------------------------------------------
// Profiles.

enum Profile { kKaz, kKgz, kTjk, kTkm, kUzb };

enum Fault : uint8_t {
  kNoFault,
  kBadChecksum,
  kBadIdFormat,
  kIdSexMismatch,
  kIdBirthMismatch,
  kMissingName,
  kBadDate,
  kUnknownStatus,
  kUnknownRegion,
  kUnknownCountry,
  kUntilBeforeReg,
  kFutureBirth,
  kCaseYearMismatch,
  kAsylumInUzb,
  kDuplicateId,
  kBadCount,
  kBadAgeBand,
  kFaultCount
};

// The `kind` names of samples/EXPECTED.md where one exists.
constexpr const char* kFaultNames[kFaultCount] = {
    "",           "bad_checksum",     "bad_id_format",  "id_sex_mismatch",
    "id_birth_mismatch", "missing_name", "bad_date",    "unknown_status",
    "unknown_region", "unknown_country", "until_before_reg", "future_birth",
    "case_year_mismatch", "asylum_in_uzb", "duplicate_id", "bad_count",
    "bad_age_band",
};

struct ProfileSpec {
  const char* name;
  std::array<uint32_t, kPopCount> pop_weights;
  std::vector<Fault> kinds;  // ways a row may be broken
};

ProfileSpec SpecFor(Profile p) {
  switch (p) {
    case kKaz:
      return {"kaz-1",
              {80, 50, 220, 650},
              {kBadChecksum, kIdSexMismatch, kIdBirthMismatch, kMissingName, kBadDate,
               kUnknownStatus, kUnknownRegion, kUnknownCountry, kUntilBeforeReg, kDuplicateId}};
    case kKgz:
      return {"kgz-1",
              {100, 50, 200, 650},
              {kBadIdFormat, kIdSexMismatch, kIdBirthMismatch, kMissingName, kBadDate,
               kUnknownStatus, kUnknownRegion, kUnknownCountry, kUntilBeforeReg, kDuplicateId}};
    case kTjk:
      return {"tjk-1",
              {450, 200, 100, 250},
              {kBadIdFormat, kCaseYearMismatch, kMissingName, kBadDate, kUnknownStatus,
               kUnknownRegion, kUnknownCountry, kUntilBeforeReg, kFutureBirth, kDuplicateId}};
    case kTkm:
      return {"tkm-1",
              {100, 30, 400, 470},
              {kUnknownRegion, kUnknownCountry, kUnknownStatus, kBadAgeBand, kBadCount,
               kDuplicateId}};
    case kUzb:
      // Uzbekistan has no asylum procedure: no ASY rows.
      return {"uzb-1",
              {150, 0, 250, 600},
              {kBadChecksum, kIdSexMismatch, kIdBirthMismatch, kMissingName, kBadDate,
               kAsylumInUzb, kUnknownRegion, kUnknownCountry, kUntilBeforeReg, kDuplicateId}};
  }
  Die("internal: bad profile");
}

// Whether a country may appear as an origin in the profile.
bool OriginAllowed(Profile p, int c) {
  const std::string_view a = kCountries[c].alpha3;
  switch (p) {
    case kKaz:
      return a != "KAZ";
    case kKgz:
      return a != "KGZ";
    case kTjk:
      return a != "TJK" && kCountries[c].tajik != nullptr;
    case kTkm:
      return a != "TKM" && a != "UNK";
    case kUzb:
      return a != "UZB" && a != "UNK";  // null is XXA; no code for "unknown"
  }
  return false;
}

struct Region {
  const char* name;
  const char* code;
  uint32_t weight;
};

// kaz-1: names as the register writes them. The three regions created in 2022
// (Abai, Zhetysu, Ulytau) are written only for registrations from 8 June 2022;
// earlier rows carry the region they were split from. Turkestan region was
// South Kazakhstan region before 19 June 2018, and Astana was Nur-Sultan from
// 23 March 2019 to 17 September 2022.
constexpr Region kKazRegions[] = {
    {"г. Алматы", "KZ-75", 220},
    {"г. Астана", "KZ-71", 150},
    {"г. Шымкент", "KZ-79", 100},
    {"Туркестанская область", "KZ-61", 80},
    {"Алматинская область", "KZ-19", 70},
    {"Жамбылская область", "KZ-31", 50},
    {"Карагандинская область", "KZ-35", 50},
    {"Восточно-Казахстанская область", "KZ-63", 30},
    {"Актюбинская область", "KZ-15", 30},
    {"Атырауская область", "KZ-23", 30},
    {"Мангистауская область", "KZ-47", 30},
    {"Павлодарская область", "KZ-55", 20},
    {"Костанайская область", "KZ-39", 20},
    {"Кызылординская область", "KZ-43", 20},
    {"Западно-Казахстанская область", "KZ-27", 20},
    {"Акмолинская область", "KZ-11", 20},
    {"Северо-Казахстанская область", "KZ-59", 10},
    {"Абайская область", "KZ-10", 10},
    {"Жетысуская область", "KZ-33", 10},
    {"Улытауская область", "KZ-62", 10},
};
constexpr int kKazAlmatyCity = 0, kKazAstana = 1, kKazTurkestan = 3, kKazAlmatyRegion = 4,
              kKazKaraganda = 6, kKazEast = 7, kKazAbai = 17, kKazZhetysu = 18, kKazUlytau = 19;

constexpr Region kKgzRegions[] = {
    {"KG-GB", "KG-GB", 350}, {"KG-C", "KG-C", 200}, {"KG-GO", "KG-GO", 120},
    {"KG-O", "KG-O", 100},   {"KG-J", "KG-J", 100}, {"KG-B", "KG-B", 50},
    {"KG-Y", "KG-Y", 40},    {"KG-T", "KG-T", 20},  {"KG-N", "KG-N", 20},
};

constexpr Region kTjkRegions[] = {
    {"ш. Душанбе", "TJ-DU", 350},    {"вилояти Суғд", "TJ-SU", 250},
    {"вилояти Хатлон", "TJ-KT", 250}, {"НТҶ", "TJ-RA", 120},
    {"ВМКБ", "TJ-GB", 30},
};

// uzb-1: '^' stands for the Uzbek letter mark (apostrophe), written in one of
// its variants per row.
constexpr Region kUzbRegions[] = {
    {"Toshkent shahri", "UZ-TK", 300},     {"Toshkent viloyati", "UZ-TO", 100},
    {"Samarqand viloyati", "UZ-SA", 80},   {"Farg^ona viloyati", "UZ-FA", 80},
    {"Andijon viloyati", "UZ-AN", 70},     {"Namangan viloyati", "UZ-NG", 60},
    {"Surxondaryo viloyati", "UZ-SU", 60}, {"Qashqadaryo viloyati", "UZ-QA", 50},
    {"Buxoro viloyati", "UZ-BU", 50},      {"Xorazm viloyati", "UZ-XO", 40},
    {"Qoraqalpog^iston Respublikasi", "UZ-QR", 30},
    {"Jizzax viloyati", "UZ-JI", 30},      {"Navoiy viloyati", "UZ-NW", 30},
    {"Sirdaryo viloyati", "UZ-SI", 20},
};

constexpr Region kTkmRegions[] = {
    {"Aşgabat", "TM-S", 400}, {"Ahal", "TM-A", 150},    {"Balkan", "TM-B", 100},
    {"Daşoguz", "TM-D", 100}, {"Lebap", "TM-L", 150},   {"Mary", "TM-M", 100},
};

// Names: male and female forms at the same index.
struct NameLists {
  std::vector<std::string_view> surname_m, surname_f, given_m, given_f, patr_m, patr_f;
};

NameLists NamesFor(Profile p) {
  switch (p) {
    case kKaz:
      return {{"Каримов", "Юсупов", "Шарипов", "Рахимов", "Ахмади", "Хасанов", "Исмаилов",
               "Мирзоев", "Назаров", "Алиев", "Ким", "Иванов", "Сейткали", "Турсунов"},
              {"Каримова", "Юсупова", "Шарипова", "Рахимова", "Ахмади", "Хасанова", "Исмаилова",
               "Мирзоева", "Назарова", "Алиева", "Ким", "Иванова", "Сейткали", "Турсунова"},
              {"Азиз", "Бахтияр", "Джамшед", "Мурат", "Камол", "Омид", "Фарход", "Руслан",
               "Ерлан", "Тимур"},
              {"Зарина", "Мадина", "Гульнара", "Айгуль", "Фарида", "Нодира", "Малика", "Лейла",
               "Әсел", "Дана"},
              {"Ахмадович", "Каримович", "Рахимович", "Юсупович", "Алиевич"},
              {"Ахмадовна", "Каримовна", "Рахимовна", "Юсуповна", "Алиевна"}};
    case kKgz:
      return {{"Омаров", "Мирзоев", "Каримов", "Асанов", "Токтогулов", "Ахмади", "Усенов",
               "Жумабеков", "Рахимов", "Турдуев"},
              {"Омарова", "Мирзоева", "Каримова", "Асанова", "Токтогулова", "Ахмади", "Усенова",
               "Жумабекова", "Рахимова", "Турдуева"},
              {"Азамат", "Бакыт", "Камол", "Ахмад", "Нурлан", "Мурат", "Эрлан", "Тимур"},
              {"Айгуль", "Зарина", "Жылдыз", "Асель", "Гульнара", "Айпери", "Нургуль", "Мадина"},
              {},
              {}};
    case kTjk:
      return {{"Раҳимов", "Ҳасанов", "Назаров", "Мирзоев", "Шарипов", "Қодиров", "Ниёзов",
               "Аҳмадӣ", "Каримов", "Сафаров"},
              {"Раҳимова", "Ҳасанова", "Назарова", "Мирзоева", "Шарипова", "Қодирова", "Ниёзова",
               "Аҳмадӣ", "Каримова", "Сафарова"},
              {"Фаридун", "Ҷамшед", "Камол", "Омид", "Сӯҳроб", "Бахтиёр", "Фирӯз", "Азиз"},
              {"Зарина", "Гулнора", "Мадина", "Фарзона", "Нилуфар", "Шаҳло", "Мунира", "Тоҳира"},
              {"Раҳимович", "Аҳмадович", "Каримович", "Шарифович"},
              {"Раҳимовна", "Аҳмадовна", "Каримовна", "Шарифовна"}};
    case kUzb:
      return {{"Karimov", "Yusupov", "Rahimov", "Niyozov", "Mirzoyev", "Toshmatov", "O^rinboyev",
               "G^ulomov", "Ahmadiy", "Sobirov"},
              {"Karimova", "Yusupova", "Rahimova", "Niyozova", "Mirzoyeva", "Toshmatova",
               "O^rinboyeva", "G^ulomova", "Ahmadiy", "Sobirova"},
              {"Aziz", "Baxtiyor", "Murod", "Jamshid", "Sherzod", "Oybek", "G^ayrat", "Omid"},
              {"Nodira", "Zarina", "Gulnora", "Dilnoza", "Malika", "Shahlo", "Go^zal", "Madina"},
              {"Ahmadovich", "Karimovich", "Rahimovich", "Sobirovich"},
              {"Ahmadovna", "Karimovna", "Rahimovna", "Sobirovna"}};
    case kTkm:
      break;
  }
  return {};
}

// The Uzbek letter mark as exporting systems write it, with weights; the last
// is a JSON escape of U+02BB.
constexpr std::string_view kApostrophes[] = {"ʻ", "'", "‘", "’", "ʼ", "`", "\\u02bb"};
constexpr uint32_t kApostropheWeights[] = {500, 250, 80, 80, 40, 30, 20};
constexpr int kApostropheCount = static_cast<int>(std::size(kApostrophes));

// A text in every apostrophe variant, built once at start-up.
struct UzText {
  std::array<std::string, kApostropheCount> v;
};
UzText MakeUzText(std::string_view text) {
  UzText t;
  for (int i = 0; i < kApostropheCount; ++i) {
    for (char c : text) {
      if (c == '^') {
        t.v[static_cast<size_t>(i)] += kApostrophes[i];
      } else {
        t.v[static_cast<size_t>(i)] += c;
      }
    }
  }
  return t;
}
std::vector<UzText> MakeUzTexts(const std::vector<std::string_view>& texts) {
  std::vector<UzText> out;
  for (std::string_view t : texts) out.push_back(MakeUzText(t));
  return out;
}

// ---------------------------------------------------------------------------
// Check digits.

// kaz-1 IIN: the check digit of 11 digits, or -1 when none exists.
int IinCheckDigit(const char* d) {
  int sum = 0;
  for (int i = 0; i < 11; ++i) sum += (d[i] - '0') * (i + 1);
  int r = sum % 11;
  if (r != 10) return r;
  static constexpr int kSecond[11] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
  sum = 0;
  for (int i = 0; i < 11; ++i) sum += (d[i] - '0') * kSecond[i];
  r = sum % 11;
  return r == 10 ? -1 : r;
}

// uzb-1 PINFL: the check digit of 13 digits.
int PinflCheckDigit(const char* d) {
  static constexpr int kWeights[13] = {7, 3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1, 7};
  int sum = 0;
  for (int i = 0; i < 13; ++i) sum += (d[i] - '0') * kWeights[i];
  return sum % 10;
}

// ---------------------------------------------------------------------------
// Persons.

constexpr int32_t kNoDate = INT32_MIN;

struct Person {
  int pop = 0;
  int coo = 0;  // index in kCountries
  bool male = false;
  int32_t birth = 0;  // the true birth date (IDs always carry it in full)
  int unknown = 0;    // unknown parts of the birth date as written (see PutDate)
  int band = 0;       // age band at the reference date; kBandCount: unknown
  int32_t reg = 0;
  int32_t until = kNoDate;
  int region = 0;
  int surname = 0, given = 0, patronymic = -1;
  char id[24] = {};  // national ID or case-file number, NUL-terminated
};

class Generator {
 public:
  Generator(Profile profile, uint64_t seed, Ymd ref, double invalid_rate, Output& out)
      : profile_(profile),
        spec_(SpecFor(profile)),
        rng_(seed),
        serial_key_(seed * 0x9e3779b97f4a7c15ULL + 0x5eed),
        ref_ymd_(ref),
        ref_(DaysFromCivil(ref.y, ref.m, ref.d)),
        invalid_per_million_(static_cast<uint32_t>(invalid_rate * 1e6 + 0.5)),
        out_(out),
        names_(NamesFor(profile)) {
    for (int p = 0; p < kPopCount; ++p) pop_.Add(p, spec_.pop_weights[static_cast<size_t>(p)]);
    for (int p = 0; p < kPopCount; ++p) {
      const CountryWeight* begin = p == kSta ? std::begin(kStatelessOrigins)
                                   : p == kMig ? std::begin(kMigrantOrigins)
                                               : std::begin(kRefugeeOrigins);
      const CountryWeight* end = p == kSta ? std::end(kStatelessOrigins)
                                 : p == kMig ? std::end(kMigrantOrigins)
                                             : std::end(kRefugeeOrigins);
      for (const CountryWeight* w = begin; w != end; ++w) {
        const int c = CountryIndex(w->alpha3);
        // In uzb-1 a stateless person has no nationality (null), and only
        // stateless persons have none.
        if (profile == kUzb && (p == kSta) != (std::string_view(w->alpha3) == "XXA")) continue;
        if (OriginAllowed(profile, c)) origins_[static_cast<size_t>(p)].Add(c, w->weight);
      }
      for (int b = 0; b < kBandCount; ++b)
        bands_[static_cast<size_t>(p)].Add(b, kBandWeights[static_cast<size_t>(p)][static_cast<size_t>(b)]);
    }
    const Region* regions = nullptr;
    size_t region_count = 0;
    switch (profile) {
      case kKaz:
        regions = kKazRegions, region_count = std::size(kKazRegions);
        break;
      case kKgz:
        regions = kKgzRegions, region_count = std::size(kKgzRegions);
        break;
      case kTjk:
        regions = kTjkRegions, region_count = std::size(kTjkRegions);
        break;
      case kTkm:
        regions = kTkmRegions, region_count = std::size(kTkmRegions);
        break;
      case kUzb:
        regions = kUzbRegions, region_count = std::size(kUzbRegions);
        break;
    }
    for (size_t i = 0; i < region_count; ++i) regions_.Add(static_cast<int>(i), regions[i].weight);
    for (int i = 0; i < kApostropheCount; ++i) apostrophe_.Add(i, kApostropheWeights[i]);
    if (profile == kUzb) {
      for (const Region& r : kUzbRegions) uz_regions_.push_back(MakeUzText(r.name));
      uz_surname_m_ = MakeUzTexts(names_.surname_m);
      uz_surname_f_ = MakeUzTexts(names_.surname_f);
      uz_given_m_ = MakeUzTexts(names_.given_m);
      uz_given_f_ = MakeUzTexts(names_.given_f);
      uz_stateless_ = MakeUzText("fuqaroligi yo^q shaxs");
    }
    id_base_ = DaysFromCivil(1880, 1, 1);
    id_counters_.assign(static_cast<size_t>(DaysFromCivil(2100, 1, 1) - id_base_) * 2, 0);
    new_regions_from_ = DaysFromCivil(2022, 6, 8);
    turkestan_from_ = DaysFromCivil(2018, 6, 19);
    nur_sultan_from_ = DaysFromCivil(2019, 3, 23);
    nur_sultan_until_ = DaysFromCivil(2022, 9, 17);
    last_row_.resize(Output::kMaxRow);
  }

  void Run(uint64_t persons, uint64_t min_bytes);
  void PrintSummary(double seconds, double cpu_seconds) const;

 private:
  void DrawPerson(Person& p);
  bool AssignId(Person& p, Fault fault);
  // The k-th serial (k < modulus) of the counter `key`: a bijection of k,
  // rotated by a per-counter offset so that the first serial of every date
  // differs, and scrambled so that consecutive serials do not look consecutive.
  uint32_t Serial(uint64_t key, uint32_t k, uint32_t modulus) const {
    uint64_t x = serial_key_ ^ key;
    const uint64_t rotated = (k + SplitMix64(x) % modulus) % modulus;
    return static_cast<uint32_t>((rotated * 7919 + 104729) % modulus);
  }
  Fault DrawFault();
  void Header();
  void Footer();
  char* Row(char* p, const Person& person, Fault fault);
  char* KazRow(char* p, const Person& person, Fault fault);
  char* KgzRow(char* p, const Person& person, Fault fault);
  char* TjkRow(char* p, const Person& person, Fault fault);
  char* UzbRow(char* p, const Person& person, Fault fault);
  void RunTkm(uint64_t persons);
  int KazRegionAt(int region, int32_t reg) const;

  std::string_view Surname(const Person& p) const {
    return p.male ? names_.surname_m[static_cast<size_t>(p.surname)]
                  : names_.surname_f[static_cast<size_t>(p.surname)];
  }
  std::string_view Given(const Person& p) const {
    return p.male ? names_.given_m[static_cast<size_t>(p.given)]
                  : names_.given_f[static_cast<size_t>(p.given)];
  }
  std::string_view Patronymic(const Person& p) const {
    if (p.patronymic < 0) return {};
    return p.male ? names_.patr_m[static_cast<size_t>(p.patronymic)]
                  : names_.patr_f[static_cast<size_t>(p.patronymic)];
  }

  Profile profile_;
  ProfileSpec spec_;
  Rng rng_;
  uint64_t serial_key_;
  Ymd ref_ymd_;
  int32_t ref_;
  uint32_t invalid_per_million_;
  Output& out_;
  NameLists names_;
  Weighted pop_, regions_, apostrophe_;
  std::array<Weighted, kPopCount> origins_, bands_;
  std::vector<UzText> uz_regions_, uz_surname_m_, uz_surname_f_, uz_given_m_, uz_given_f_;
  UzText uz_stateless_;

  // Serial counters: per (birth date, sex) for IIN/PIN/PINFL, per
  // registration year for tjk-1 case files.
  int32_t id_base_ = 0;
  std::vector<uint32_t> id_counters_;
  std::array<uint32_t, 202> case_counters_{};  // index: year - 1900 (up to 2101)

  int32_t new_regions_from_, turkestan_from_, nur_sultan_from_, nur_sultan_until_;

  // The previous valid row, for duplicates.
  std::vector<char> last_row_;
  size_t last_row_len_ = 0;

  // Summary.
  uint64_t rows_ = 0, valid_ = 0, expired_ = 0, count_total_ = 0;
  std::array<uint64_t, kFaultCount> broken_{};
};

Fault Generator::DrawFault() {
  if (invalid_per_million_ == 0 || rng_.Below(1000000) >= invalid_per_million_) return kNoFault;
  return spec_.kinds[rng_.Below(static_cast<uint32_t>(spec_.kinds.size()))];
}

void Generator::DrawPerson(Person& p) {
  p.pop = pop_.Draw(rng_);
  p.coo = origins_[static_cast<size_t>(p.pop)].Draw(rng_);
  p.male = rng_.PerMille(p.pop == kMig ? 720 : 520);

  // Age in whole years at the reference date, then a birth date giving it.
  p.band = bands_[static_cast<size_t>(p.pop)].Draw(rng_);
  int age = 0;
  switch (p.band) {
    case kB0_4:
      age = static_cast<int>(rng_.Below(5));
      break;
    case kB5_11:
      age = 5 + static_cast<int>(rng_.Below(7));
      break;
    case kB12_17:
      age = 12 + static_cast<int>(rng_.Below(6));
      break;
    case kB18_59: {
      // Skewed towards the young adults.
      const uint32_t a = rng_.Below(42), b = rng_.Below(42);
      age = 18 + static_cast<int>(a < b ? a : b);
      break;
    }
    default: {
      const uint32_t a = rng_.Below(30), b = rng_.Below(30);
      age = 60 + static_cast<int>(a < b ? a : b);
      break;
    }
  }
  const int32_t lo = DaysFromCivil(ref_ymd_.y - age - 1, ref_ymd_.m, ref_ymd_.d) + 1;
  const int32_t hi = DaysFromCivil(ref_ymd_.y - age, ref_ymd_.m, ref_ymd_.d);
  p.birth = lo + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(hi - lo + 1)));
  if (p.birth > ref_) p.birth = ref_;

  // Registration: after birth, skewed towards recent years.
  int32_t floor = DaysFromCivil(ref_ymd_.y - (p.pop == kMig ? 12 : 25), ref_ymd_.m, ref_ymd_.d);
  const int32_t earliest = DaysFromCivil(1992, 1, 1);
  if (floor < earliest) floor = earliest;
  if (floor < p.birth) floor = p.birth;
  const uint32_t span = static_cast<uint32_t>(ref_ - floor + 1);
  const uint32_t a = rng_.Below(span), b = rng_.Below(span);
  p.reg = ref_ - static_cast<int32_t>(a < b ? a : b);

  // Incomplete birth dates, kept only where the registration is after every
  // date the incomplete one stands for (so no rule can read it as later).
  p.unknown = 0;
  const uint32_t u = rng_.Below(1000);
  if (u < 25 && p.pop != kMig) {
    p.unknown = u < 3 ? 3 : u < 10 ? 2 : 1;
    if (profile_ == kKgz && p.unknown == 3) p.unknown = 2;  // kgz-1 has no unknown year
    const Ymd c = CivilFromDays(p.birth);
    const int32_t latest = p.unknown == 1 ? LastDayOfMonth(c.y, c.m)
                           : p.unknown == 2 ? DaysFromCivil(c.y, 12, 31)
                                            : kNoDate;
    if (latest > p.reg || latest > ref_) p.unknown = 0;
  }
  if (p.unknown == 3) p.band = kBandCount;

  // Status validity: about 10% expired before the reference date.
  if (p.reg < ref_ && rng_.PerMille(100)) {
    p.until = p.reg + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(ref_ - p.reg)));
  } else {
    const uint32_t open_ended = p.pop == kRef ? 700 : p.pop == kSta ? 750 : 0;
    if (rng_.PerMille(open_ended)) {
      p.until = kNoDate;
    } else {
      p.until = ref_ + static_cast<int32_t>(rng_.Below(3 * 365));
    }
  }

  p.region = regions_.Draw(rng_);
  if (profile_ != kTkm) {
    p.surname = static_cast<int>(rng_.Below(static_cast<uint32_t>(names_.surname_m.size())));
    p.given = static_cast<int>(
        rng_.Below(static_cast<uint32_t>(p.male ? names_.given_m.size() : names_.given_f.size())));
    p.patronymic = -1;
    if (!names_.patr_m.empty() && rng_.PerMille(600)) {
      p.patronymic = static_cast<int>(rng_.Below(static_cast<uint32_t>(names_.patr_m.size())));
    }
  }
}

// Fills p.id; false when the serials for p's date (or year) are used up.
bool Generator::AssignId(Person& p, Fault fault) {
  if (profile_ == kTjk) {
    // A case_year_mismatch row takes its number from the next year's counter,
    // so that it is wrong only in its year and clashes with no other number.
    const int year = CivilFromDays(p.reg).y + (fault == kCaseYearMismatch ? 1 : 0);
    uint32_t& k = case_counters_[static_cast<size_t>(year - 1900)];
    if (k >= 1000000) return false;
    const uint32_t serial = Serial(static_cast<uint64_t>(year), k++, 1000000);
    char* q = Put2(p.id, year % 100);
    *q++ = '-';
    q = PutDigits(q, serial, 6);
    *q = '\0';
    return true;
  }
  const Ymd b = CivilFromDays(p.birth);
  const size_t counter = static_cast<size_t>(p.birth - id_base_) * 2 + (p.male ? 0 : 1);
  uint32_t& k = id_counters_[counter];
  const int century = b.y < 1900 ? 1 : b.y < 2000 ? 3 : 5;
  switch (profile_) {
    case kKaz:  // YYMMDD C NNNN K
      while (k < 10000) {
        const uint32_t serial = Serial(counter, k++, 10000);
        char* q = Put2(p.id, b.y % 100);
        q = Put2(q, b.m);
        q = Put2(q, b.d);
        *q++ = static_cast<char>('0' + century + (p.male ? 0 : 1));
        q = PutDigits(q, serial, 4);
        const int check = IinCheckDigit(p.id);
        if (check < 0) continue;  // no check digit exists for this serial
        *q++ = static_cast<char>('0' + check);
        *q = '\0';
        return true;
      }
      return false;
    case kKgz: {  // S DDMMYYYY NNNNN; S is 1 female, 2 male
      if (k >= 100000) return false;
      const uint32_t serial = Serial(counter, k++, 100000);
      char* q = p.id;
      *q++ = p.male ? '2' : '1';
      q = Put2(q, b.d);
      q = Put2(q, b.m);
      q = Put4(q, b.y);
      q = PutDigits(q, serial, 5);
      *q = '\0';
      return true;
    }
    case kUzb: {  // C DDMMYY RRR SSS K; RRR and SSS not 000
      if (k >= 999u * 999u) return false;
      const uint32_t v = Serial(counter, k++, 999u * 999u);
      char* q = p.id;
      *q++ = static_cast<char>('0' + century + (p.male ? 0 : 1));
      q = Put2(q, b.d);
      q = Put2(q, b.m);
      q = Put2(q, b.y % 100);
      q = PutDigits(q, 1 + v / 999, 3);
      q = PutDigits(q, 1 + v % 999, 3);
      *q++ = static_cast<char>('0' + PinflCheckDigit(p.id));
      *q = '\0';
      return true;
    }
    default:
      return false;
  }
}

int Generator::KazRegionAt(int region, int32_t reg) const {
  if (reg < new_regions_from_) {
    if (region == kKazAbai) return kKazEast;
    if (region == kKazZhetysu) return kKazAlmatyRegion;
    if (region == kKazUlytau) return kKazKaraganda;
  }
  return region;
}

// kaz-1 column order (FORMATS.md): IIN; surname; given name; patronymic; birth
// date; sex; citizenship; status; region; registered; status valid until.
char* Generator::KazRow(char* p, const Person& person, Fault fault) {
  static constexpr std::string_view kStatus[kPopCount] = {
      "беженец", "лицо, ищущее убежище", "лицо без гражданства", "трудящийся-мигрант"};
  if (fault == kBadChecksum) {
    char id[13];
    std::memcpy(id, person.id, 12);
    id[11] = static_cast<char>('0' + (id[11] - '0' + 1 + rng_.Below(9)) % 10);
    p = Put(p, std::string_view(id, 12));
  } else {
    p = Put(p, person.id);
  }
  *p++ = ';';
  if (fault != kMissingName) p = Put(p, Surname(person));
  *p++ = ';';
  p = Put(p, Given(person));
  *p++ = ';';
  p = Put(p, Patronymic(person));
  *p++ = ';';
  if (fault == kIdBirthMismatch) {
    p = PutDate(p, person.birth - 365 - static_cast<int32_t>(rng_.Below(30)), DateStyle::kDotDmy);
  } else {
    p = PutDate(p, person.birth, DateStyle::kDotDmy, person.unknown);
  }
  *p++ = ';';
  // Russian М/Ж mostly, Kazakh Е/Ә sometimes.
  const bool male = fault == kIdSexMismatch ? !person.male : person.male;
  const bool kazakh = rng_.PerMille(200);
  p = Put(p, male ? (kazakh ? "Е" : "М") : (kazakh ? "Ә" : "Ж"));
  *p++ = ';';
  const std::string_view coo = kCountries[person.coo].alpha3;
  if (fault == kUnknownCountry) {
    p = Put(p, "ZZZ");
  } else if (coo == "XXA") {
    p = Put(p, "ЛБГ");
  } else if (coo == "UNK") {
    p = Put(p, "-");
  } else {
    p = Put(p, coo);
  }
  *p++ = ';';
  p = Put(p, fault == kUnknownStatus ? std::string_view("турист") : kStatus[person.pop]);
  *p++ = ';';
  if (fault == kUnknownRegion) {
    p = Put(p, "Марсианская область");
  } else {
    const int region = KazRegionAt(person.region, person.reg);
    if (region == kKazTurkestan && person.reg < turkestan_from_) {
      p = Put(p, "Южно-Казахстанская область");
    } else if (region == kKazAstana && person.reg >= nur_sultan_from_ &&
               person.reg <= nur_sultan_until_) {
      p = Put(p, "г. Нур-Султан");
    } else if (region == kKazAlmatyCity && rng_.PerMille(50)) {
      p = Put(p, "город Алматы");
    } else {
      p = Put(p, kKazRegions[region].name);
    }
  }
  *p++ = ';';
  if (fault == kBadDate) {
    p = PutImpossibleDate(p, CivilFromDays(person.reg).y, DateStyle::kDotDmy);
  } else {
    p = PutDate(p, person.reg, DateStyle::kDotDmy);
  }
  *p++ = ';';
  if (fault == kUntilBeforeReg) {
    p = PutDate(p, person.reg - 1 - static_cast<int32_t>(rng_.Below(200)), DateStyle::kDotDmy);
  } else if (person.until != kNoDate) {
    p = PutDate(p, person.until, DateStyle::kDotDmy);
  }
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

// kgz-1: one <Person> per line; the child elements come in one of a few
// orders (the profile allows any).
char* Generator::KgzRow(char* p, const Person& person, Fault fault) {
  enum { kPin, kSurname, kGiven, kBirth, kSex, kNationality, kCategory, kRegion, kRegistered,
         kValidUntil, kElementCount };
  static constexpr int kOrders[4][kElementCount] = {
      {kPin, kSurname, kGiven, kBirth, kSex, kNationality, kCategory, kRegion, kRegistered,
       kValidUntil},
      {kPin, kSurname, kGiven, kBirth, kSex, kNationality, kCategory, kRegion, kRegistered,
       kValidUntil},
      {kSurname, kGiven, kPin, kSex, kBirth, kCategory, kNationality, kRegistered, kValidUntil,
       kRegion},
      {kRegion, kCategory, kRegistered, kValidUntil, kNationality, kSex, kBirth, kGiven,
       kSurname, kPin},
  };
  const int* order = kOrders[rng_.Below(4)];
  p = Put(p, "<Person>");
  for (int e = 0; e < kElementCount; ++e) {
    switch (order[e]) {
      case kPin:
        p = Put(p, "<PIN>");
        p = Put(p, std::string_view(person.id, fault == kBadIdFormat ? 13 : 14));
        p = Put(p, "</PIN>");
        break;
      case kSurname:
        p = Put(p, "<Surname>");
        if (fault != kMissingName) p = Put(p, Surname(person));
        p = Put(p, "</Surname>");
        break;
      case kGiven:
        p = Put(p, "<GivenName>");
        p = Put(p, Given(person));
        p = Put(p, "</GivenName>");
        break;
      case kBirth:
        p = Put(p, "<BirthDate>");
        if (fault == kIdBirthMismatch) {
          p = PutDate(p, person.birth - 365 - static_cast<int32_t>(rng_.Below(30)),
                      DateStyle::kIso);
        } else {
          p = PutDate(p, person.birth, DateStyle::kIso, person.unknown);
        }
        p = Put(p, "</BirthDate>");
        break;
      case kSex:
        p = Put(p, (fault == kIdSexMismatch ? !person.male : person.male) ? "<Sex>M</Sex>"
                                                                           : "<Sex>F</Sex>");
        break;
      case kNationality: {
        p = Put(p, "<Nationality>");
        const std::string_view coo = kCountries[person.coo].alpha3;
        if (fault == kUnknownCountry) {
          p = Put(p, "ZZZ");
        } else if (coo == "UNK") {
          // ICAO: XXB/XXC refugee with nationality not recorded, XXX unspecified.
          p = Put(p, person.pop == kRef ? (rng_.PerMille(500) ? "XXB" : "XXC") : "XXX");
        } else {
          p = Put(p, coo);
        }
        p = Put(p, "</Nationality>");
        break;
      }
      case kCategory: {
        p = Put(p, "<Category>");
        static constexpr std::string_view kCategories[kPopCount] = {"REF", "ASY", "STL", "LMG"};
        if (fault == kUnknownStatus) {
          p = Put(p, "TOUR");
        } else if (person.pop == kRef && rng_.PerMille(200)) {
          p = Put(p, "MREF");
        } else {
          p = Put(p, kCategories[person.pop]);
        }
        p = Put(p, "</Category>");
        break;
      }
      case kRegion:
        p = Put(p, "<Region>");
        p = Put(p, fault == kUnknownRegion ? std::string_view("KG-ZZ")
                                           : std::string_view(kKgzRegions[person.region].code));
        p = Put(p, "</Region>");
        break;
      case kRegistered:
        p = Put(p, "<Registered>");
        if (fault == kBadDate) {
          p = PutImpossibleDate(p, CivilFromDays(person.reg).y, DateStyle::kIso);
        } else {
          p = PutDate(p, person.reg, DateStyle::kIso);
        }
        p = Put(p, "</Registered>");
        break;
      case kValidUntil:
        if (fault == kUntilBeforeReg) {
          p = Put(p, "<ValidUntil>");
          p = PutDate(p, person.reg - 1 - static_cast<int32_t>(rng_.Below(200)), DateStyle::kIso);
          p = Put(p, "</ValidUntil>");
        } else if (person.until != kNoDate) {
          p = Put(p, "<ValidUntil>");
          p = PutDate(p, person.until, DateStyle::kIso);
          p = Put(p, "</ValidUntil>");
        }
        break;
    }
  }
  return Put(p, "</Person>\n");
}

// tjk-1 column order (FORMATS.md): case file, surname, given name, patronymic,
// birth date, sex, citizenship, status, region, registered, valid until.
char* Generator::TjkRow(char* p, const Person& person, Fault fault) {
  static constexpr std::string_view kStatus[kPopCount] = {"гуреза", "паноҳҷӯ", "шахси бешаҳрванд",
                                                          "муҳоҷири меҳнатӣ"};
  if (fault == kBadIdFormat) {
    p = Put(p, std::string_view(person.id, 8));  // YY-NNNNN: five digits
  } else {
    p = Put(p, person.id);  // for kCaseYearMismatch, AssignId used the wrong year
  }
  *p++ = ',';
  if (fault != kMissingName) p = Put(p, Surname(person));
  *p++ = ',';
  p = Put(p, Given(person));
  *p++ = ',';
  p = Put(p, Patronymic(person));
  *p++ = ',';
  if (fault == kFutureBirth) {
    p = PutDate(p, ref_ + 30 + static_cast<int32_t>(rng_.Below(300)), DateStyle::kSlashDmy);
  } else {
    p = PutDate(p, person.birth, DateStyle::kSlashDmy, person.unknown);
  }
  *p++ = ',';
  p = Put(p, person.male ? "мард" : "зан");
  *p++ = ',';
  p = Put(p, fault == kUnknownCountry ? std::string_view("Атлантида")
                                      : std::string_view(kCountries[person.coo].tajik));
  *p++ = ',';
  p = Put(p, fault == kUnknownStatus ? std::string_view("сайёҳ") : kStatus[person.pop]);
  *p++ = ',';
  p = Put(p, fault == kUnknownRegion ? std::string_view("вилояти Марс")
                                     : std::string_view(kTjkRegions[person.region].name));
  *p++ = ',';
  if (fault == kBadDate) {
    p = PutImpossibleDate(p, CivilFromDays(person.reg).y, DateStyle::kSlashDmy);
  } else {
    p = PutDate(p, person.reg, DateStyle::kSlashDmy);
  }
  *p++ = ',';
  if (fault == kUntilBeforeReg) {
    p = PutDate(p, person.reg - 1 - static_cast<int32_t>(rng_.Below(200)), DateStyle::kSlashDmy);
  } else if (person.until != kNoDate) {
    p = PutDate(p, person.until, DateStyle::kSlashDmy);
  }
  *p++ = '\n';
  return p;
}

// uzb-1: one `yozuvlar` item, keys in the order of FORMATS.md.
char* Generator::UzbRow(char* p, const Person& person, Fault fault) {
  const size_t apos = static_cast<size_t>(apostrophe_.Draw(rng_));
  const auto uz = [apos](const UzText& t) -> std::string_view { return t.v[apos]; };
  p = Put(p, "{\"jshshir\": \"");
  if (fault == kBadChecksum) {
    char id[14];
    std::memcpy(id, person.id, 14);
    id[13] = static_cast<char>('0' + (id[13] - '0' + 1 + rng_.Below(9)) % 10);
    p = Put(p, std::string_view(id, 14));
  } else {
    p = Put(p, person.id);
  }
  p = Put(p, "\", \"familiya\": \"");
  if (fault != kMissingName) {
    p = Put(p, uz((person.male ? uz_surname_m_ : uz_surname_f_)[static_cast<size_t>(person.surname)]));
  }
  p = Put(p, "\", \"ism\": \"");
  p = Put(p, uz((person.male ? uz_given_m_ : uz_given_f_)[static_cast<size_t>(person.given)]));
  p = Put(p, "\", \"otasining_ismi\": ");
  if (person.patronymic < 0) {
    p = Put(p, "null");
  } else {
    *p++ = '"';
    p = Put(p, Patronymic(person));
    *p++ = '"';
  }
  p = Put(p, ", \"tugilgan_sana\": \"");
  if (fault == kIdBirthMismatch) {
    p = PutDate(p, person.birth - 365 - static_cast<int32_t>(rng_.Below(30)), DateStyle::kDotDmy);
  } else {
    p = PutDate(p, person.birth, DateStyle::kDotDmy, person.unknown);
  }
  p = Put(p, (fault == kIdSexMismatch ? !person.male : person.male) ? "\", \"jinsi\": \"erkak\""
                                                                     : "\", \"jinsi\": \"ayol\"");
  p = Put(p, ", \"fuqaroligi\": ");
  if (fault == kUnknownCountry) {
    p = Put(p, "\"999\"");
  } else if (kCountries[person.coo].numeric == nullptr) {
    p = Put(p, "null");  // XXA
  } else {
    *p++ = '"';
    p = Put(p, kCountries[person.coo].numeric);
    *p++ = '"';
  }
  p = Put(p, ", \"maqomi\": \"");
  if (fault == kAsylumInUzb) {
    p = Put(p, "boshpana izlovchi");
  } else if (person.pop == kRef) {
    p = Put(p, "qochqin");
  } else if (person.pop == kSta) {
    p = Put(p, uz(uz_stateless_));
  } else {
    p = Put(p, "mehnat muhojiri");
  }
  p = Put(p, "\", \"hudud\": \"");
  p = Put(p, fault == kUnknownRegion ? std::string_view("Mars viloyati")
                                     : uz(uz_regions_[static_cast<size_t>(person.region)]));
  p = Put(p, "\", \"royxatga_olingan_sana\": \"");
  if (fault == kBadDate) {
    p = PutImpossibleDate(p, CivilFromDays(person.reg).y, DateStyle::kDotDmy);
  } else {
    p = PutDate(p, person.reg, DateStyle::kDotDmy);
  }
  p = Put(p, "\", \"amal_qilish_muddati\": ");
  if (fault == kUntilBeforeReg) {
    *p++ = '"';
    p = PutDate(p, person.reg - 1 - static_cast<int32_t>(rng_.Below(200)), DateStyle::kDotDmy);
    *p++ = '"';
  } else if (person.until != kNoDate) {
    *p++ = '"';
    p = PutDate(p, person.until, DateStyle::kDotDmy);
    *p++ = '"';
  } else {
    p = Put(p, "null");
  }
  *p++ = '}';
  return p;
}

char* Generator::Row(char* p, const Person& person, Fault fault) {
  switch (profile_) {
    case kKaz:
      return KazRow(p, person, fault);
    case kKgz:
      return KgzRow(p, person, fault);
    case kTjk:
      return TjkRow(p, person, fault);
    case kUzb:
      return UzbRow(p, person, fault);
    case kTkm:
      break;
  }
  return p;
}

void Generator::Header() {
  char* p = out_.Begin();
  char date[16];
  switch (profile_) {
    case kKaz:
      p = Put(p,
              "\xEF\xBB\xBF"
              "ЖСН/ИИН;Тегі/Фамилия;Аты/Имя;Әкесінің аты/Отчество;Туған күні/Дата рождения;"
              "Жынысы/Пол;Азаматтығы/Гражданство;Мәртебесі/Статус;Облыс/Область;"
              "Тіркелген күні/Дата регистрации;Мәртебе мерзімі/Срок действия статуса\r\n");
      break;
    case kKgz:
      p = Put(p,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<MigrantRegister xmlns=\"urn:kg:grs:migrant-register:1\" country=\"KGZ\" "
              "referenceDate=\"");
      p = Put(p, std::string_view(date, static_cast<size_t>(PutDate(date, ref_, DateStyle::kIso) - date)));
      p = Put(p, "\">\n");
      break;
    case kTjk:
      p = Put(p,
              "Рақами парванда,Насаб,Ном,Номи падар,Санаи таваллуд,Ҷинс,Шаҳрвандӣ,Мақом,Минтақа,"
              "Санаи бақайдгирӣ,Мӯҳлати эътибор\n");
      break;
    case kTkm:
      p = Put(p, "senesi,welaýat,raýatlygy,status,jynsy,ýaş_topary,sany\n");
      break;
    case kUzb:
      p = Put(p, "{\"eksport\": {\"davlat\": \"UZB\", \"holat_sanasi\": \"");
      p = PutDate(p, ref_, DateStyle::kDotDmy);
      p = Put(p, "\", \"versiya\": 1},\n \"yozuvlar\": [");
      break;
  }
  out_.End(p);
}

void Generator::Footer() {
  char* p = out_.Begin();
  if (profile_ == kKgz) p = Put(p, "</MigrantRegister>\n");
  if (profile_ == kUzb) p = Put(p, "\n]}\n");
  out_.End(p);
}

void Generator::Run(uint64_t persons, uint64_t min_bytes) {
  if (profile_ == kTkm) {
    RunTkm(persons);
    return;
  }
  Header();
  Person person;
  while (min_bytes > 0 ? out_.bytes() < min_bytes : rows_ < persons) {
    ++rows_;
    Fault fault = DrawFault();
    if (fault == kDuplicateId && last_row_len_ == 0) fault = kMissingName;
    char* p = out_.Begin();
    if (profile_ == kUzb) p = Put(p, rows_ == 1 ? "\n " : "\n,");
    if (profile_ == kKgz) p = Put(p, "  ");
    if (fault == kDuplicateId) {
      // The previous valid row again, byte for byte.
      std::memcpy(p, last_row_.data(), last_row_len_);
      out_.End(p + last_row_len_);
      ++broken_[fault];
      continue;
    }
    int attempts = 0;
    do {
      if (++attempts > 1000) {
        Die("the national ID serials are used up: too many persons for profile %s", spec_.name);
      }
      DrawPerson(person);
    } while (!AssignId(person, fault));
    char* const row = p;
    p = Row(p, person, fault);
    out_.End(p);
    if (fault == kNoFault) {
      ++valid_;
      if (person.until != kNoDate && person.until < ref_) ++expired_;
      last_row_len_ = static_cast<size_t>(p - row);
      std::memcpy(last_row_.data(), row, last_row_len_);
    } else {
      ++broken_[fault];
    }
  }
  Footer();
}

// tkm-1: N persons tabulated by region, citizenship, status, sex and age band;
// one row per non-empty cell.
void Generator::RunTkm(uint64_t persons) {
  static constexpr std::string_view kStatus[kPopCount] = {"bosgun", "gaçybatalga gözleýän",
                                                          "raýatlygy ýok", "zähmet migranty"};
  static constexpr std::string_view kBands[kBandCount + 1] = {"0-4",   "5-11", "12-17",
                                                              "18-59", "60+",  "näbelli"};
  constexpr size_t kRegions = std::size(kTkmRegions);
  constexpr size_t kBandsWithUnknown = kBandCount + 1;
  std::vector<uint64_t> cells(kRegions * kCountryCount * kPopCount * 2 * kBandsWithUnknown);
  const auto index = [&](size_t r, size_t c, size_t pop, size_t sex, size_t band) {
    return (((r * kCountryCount + c) * kPopCount + pop) * 2 + sex) * kBandsWithUnknown + band;
  };
  Person person;
  for (uint64_t i = 0; i < persons; ++i) {
    DrawPerson(person);
    const size_t band = rng_.PerMille(10) ? size_t{kBandCount} : static_cast<size_t>(person.band);
    ++cells[index(static_cast<size_t>(person.region), static_cast<size_t>(person.coo),
                  static_cast<size_t>(person.pop), person.male ? 0 : 1, band)];
  }

  Header();
  char date[16];
  const std::string_view ref(date, static_cast<size_t>(PutDate(date, ref_, DateStyle::kIso) - date));
  for (size_t r = 0; r < kRegions; ++r) {
    for (size_t c = 0; c < static_cast<size_t>(kCountryCount); ++c) {
      for (size_t pop = 0; pop < kPopCount; ++pop) {
        for (size_t sex = 0; sex < 2; ++sex) {
          for (size_t band = 0; band < kBandsWithUnknown; ++band) {
            const uint64_t count = cells[index(r, c, pop, sex, band)];
            if (count == 0) continue;
            if (count > 10000000) Die("a cell holds more than 10,000,000 persons: lower --persons");
            ++rows_;
            Fault fault = DrawFault();
            if (fault == kDuplicateId && last_row_len_ == 0) fault = kUnknownRegion;
            char* p = out_.Begin();
            if (fault == kDuplicateId) {
              std::memcpy(p, last_row_.data(), last_row_len_);
              out_.End(p + last_row_len_);
              ++broken_[fault];
              continue;
            }
            char* const row = p;
            p = Put(p, ref);
            *p++ = ',';
            p = Put(p, fault == kUnknownRegion ? std::string_view("Marsýurt")
                                               : std::string_view(kTkmRegions[r].name));
            *p++ = ',';
            p = Put(p, fault == kUnknownCountry ? std::string_view("ZZZ")
                                                : std::string_view(kCountries[c].alpha3));
            *p++ = ',';
            p = Put(p, fault == kUnknownStatus ? std::string_view("syýahatçy") : kStatus[pop]);
            *p++ = ',';
            p = Put(p, sex == 0 ? "erkek" : "aýal");
            *p++ = ',';
            p = Put(p, fault == kBadAgeBand ? std::string_view("70-79") : kBands[band]);
            *p++ = ',';
            if (fault == kBadCount) {
              *p++ = '-';
            }
            p = PutUint(p, count);
            *p++ = '\n';
            out_.End(p);
            if (fault == kNoFault) {
              ++valid_;
              count_total_ += count;
              last_row_len_ = static_cast<size_t>(p - row);
              std::memcpy(last_row_.data(), row, last_row_len_);
            } else {
              ++broken_[fault];
            }
          }
        }
      }
    }
  }
  Footer();
}

void Generator::PrintSummary(double seconds, double cpu_seconds) const {
  const double mb = static_cast<double>(out_.bytes()) / 1e6;
  std::fprintf(stderr, "gwgen: %s: %llu rows, %llu valid", spec_.name,
               static_cast<unsigned long long>(rows_), static_cast<unsigned long long>(valid_));
  if (profile_ == kTkm) {
    std::fprintf(stderr, " cells holding %llu persons", static_cast<unsigned long long>(count_total_));
  } else {
    std::fprintf(stderr, " (%llu expired, %llu in stock)", static_cast<unsigned long long>(expired_),
                 static_cast<unsigned long long>(valid_ - expired_));
  }
  uint64_t broken = 0;
  for (uint64_t n : broken_) broken += n;
  std::fprintf(stderr, ", %llu broken", static_cast<unsigned long long>(broken));
  const char* sep = " (";
  for (int f = 1; f < kFaultCount; ++f) {
    if (broken_[static_cast<size_t>(f)] == 0) continue;
    std::fprintf(stderr, "%s%s %llu", sep, kFaultNames[f],
                 static_cast<unsigned long long>(broken_[static_cast<size_t>(f)]));
    sep = ", ";
  }
  if (broken > 0) std::fprintf(stderr, ")");
  std::fprintf(stderr, "; %.1f MB in %.2f s (%.0f MB/s), %.2f s CPU\n", mb, seconds,
               seconds > 0 ? mb / seconds : 0.0, cpu_seconds);
}

double CpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

bool ParseUint(const char* s, uint64_t* out) {
  if (*s == '\0') return false;
  uint64_t v = 0;
  for (; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(*s - '0');
  }
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string profile_name, out_path = "-", ref_text = "2023-12-31";
  uint64_t persons = 0, min_bytes = 0, seed = 1;
  bool have_persons = false;
  double invalid_rate = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) Die("%s needs a value (see --help)", argv[i]);
    const char* value = argv[++i];
    if (arg == "--profile") {
      profile_name = value;
    } else if (arg == "--persons") {
      if (!ParseUint(value, &persons)) Die("--persons must be a whole number");
      have_persons = true;
    } else if (arg == "--min-bytes") {
      if (!ParseUint(value, &min_bytes) || min_bytes == 0) Die("--min-bytes must be a positive whole number");
    } else if (arg == "--seed") {
      if (!ParseUint(value, &seed)) Die("--seed must be a whole number");
    } else if (arg == "--ref-date") {
      ref_text = value;
    } else if (arg == "--invalid-rate") {
      char* end = nullptr;
      invalid_rate = std::strtod(value, &end);
      if (end == value || *end != '\0' || !(invalid_rate >= 0 && invalid_rate <= 1)) {
        Die("--invalid-rate must be a number from 0 to 1");
      }
    } else if (arg == "--out") {
      out_path = value;
    } else {
      Die("unknown option %s (see --help)", argv[i - 1]);
    }
  }

  Profile profile;
  if (profile_name == "kaz-1") {
    profile = kKaz;
  } else if (profile_name == "kgz-1") {
    profile = kKgz;
  } else if (profile_name == "tjk-1") {
    profile = kTjk;
  } else if (profile_name == "tkm-1") {
    profile = kTkm;
  } else if (profile_name == "uzb-1") {
    profile = kUzb;
  } else {
    Die("--profile must be one of kaz-1, kgz-1, tjk-1, tkm-1, uzb-1");
  }
  if (have_persons == (min_bytes > 0)) Die("give exactly one of --persons and --min-bytes");
  if (profile == kTkm && min_bytes > 0) Die("tkm-1 takes --persons (the total of the counts)");

  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (std::sscanf(ref_text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || ref_text.size() != 10 ||
      m < 1 || m > 12 || d < 1 || CivilFromDays(DaysFromCivil(y, m, d)).d != d || y < 1995 ||
      y > 2099) {
    Die("--ref-date must be a real date YYYY-MM-DD from 1995-01-01 to 2099-12-31");
  }

  int fd = STDOUT_FILENO;
  if (out_path != "-") {
    fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) Die("cannot open the output file: %s", std::strerror(errno));
  }
  const auto start = std::chrono::steady_clock::now();
  Output out(fd);
  Generator generator(profile, seed, Ymd{y, m, d}, invalid_rate, out);
  generator.Run(persons, min_bytes);
  out.Flush();
  if (fd != STDOUT_FILENO && ::close(fd) != 0) Die("close failed: %s", std::strerror(errno));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  generator.PrintSummary(seconds, CpuSeconds());
  return 0;
}
