#include "gateway/storage/store.h"

#include <cstring>
#include <unordered_map>

#include "gateway/storage/person_sorter.h"

#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

namespace gw {
namespace {

// Each entry moves the schema from version i to i+1. Never edit a released
// step: append a new one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE snapshots (
  id          INTEGER PRIMARY KEY,
  country     TEXT NOT NULL,
  ref_date    TEXT NOT NULL,
  version     INTEGER NOT NULL,
  profile     TEXT NOT NULL,
  digest      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  rows        INTEGER NOT NULL,
  accepted    INTEGER NOT NULL,
  expired     INTEGER NOT NULL,
  in_stock    INTEGER NOT NULL,
  rejected    INTEGER NOT NULL,
  receipt     TEXT NOT NULL,
  UNIQUE (country, ref_date, version)
);
CREATE TABLE current_snapshots (
  country     TEXT NOT NULL,
  ref_date    TEXT NOT NULL,
  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
  PRIMARY KEY (country, ref_date)
) WITHOUT ROWID;
CREATE TABLE persons (
  snapshot_id INTEGER NOT NULL,
  person_key  BLOB NOT NULL,
  pop_type    TEXT NOT NULL,
  coo         TEXT NOT NULL,
  sex         TEXT NOT NULL,
  age         TEXT NOT NULL,
  region      TEXT NOT NULL,
  reg_month   TEXT NOT NULL,
  valid_until TEXT,
  in_stock    INTEGER NOT NULL,
  PRIMARY KEY (snapshot_id, person_key)
) WITHOUT ROWID;
CREATE TABLE cells (
  snapshot_id INTEGER NOT NULL,
  pop_type    TEXT NOT NULL,
  coo         TEXT NOT NULL,
  sex         TEXT NOT NULL,
  age         TEXT NOT NULL,
  region      TEXT NOT NULL,
  count       INTEGER NOT NULL CHECK (count >= 0),
  PRIMARY KEY (snapshot_id, pop_type, coo, sex, age, region)
) WITHOUT ROWID;
CREATE TABLE consumers (
  name        TEXT PRIMARY KEY,
  role        TEXT NOT NULL CHECK (role IN ('consumer', 'operator')),
  token_hash  BLOB NOT NULL UNIQUE,
  created_at  TEXT NOT NULL
);
)sql",
    // 2: ministry keys, the nonce ledger for signed uploads, and the audit chain.
    R"sql(
CREATE TABLE ministry_keys (
  keyid       TEXT PRIMARY KEY,
  country     TEXT NOT NULL,
  public_key  BLOB NOT NULL UNIQUE,
  added_at    TEXT NOT NULL
);
CREATE TABLE nonces (
  keyid       TEXT NOT NULL,
  nonce       TEXT NOT NULL,
  created     INTEGER NOT NULL,
  PRIMARY KEY (keyid, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_by_created ON nonces(created);
CREATE TABLE audit (
  seq         INTEGER PRIMARY KEY,
  ts          TEXT NOT NULL,
  kind        TEXT NOT NULL,
  actor       TEXT NOT NULL,
  detail      TEXT NOT NULL,
  prev_hash   BLOB NOT NULL,
  hash        BLOB NOT NULL
);
)sql",
    // v3: the differential-privacy budget ledger (budget.cc), in exact
    // micro-epsilon. One row per table released to a consumer from one
    // snapshot version; a repeat finds its row and costs nothing.
    R"sql(
CREATE TABLE budget_ledger (
  consumer      TEXT NOT NULL,
  country       TEXT NOT NULL,
  ref_date      TEXT NOT NULL,
  version       INTEGER NOT NULL,
  table_key     TEXT NOT NULL,
  epsilon_micro INTEGER NOT NULL CHECK (epsilon_micro >= 0),
  released_at   TEXT NOT NULL,
  PRIMARY KEY (consumer, country, ref_date, version, table_key)
) WITHOUT ROWID;
CREATE INDEX budget_by_snapshot ON budget_ledger(country, ref_date);
)sql",
};

Status Configure(sql::Connection& c) {
  // WAL: readers never block the writer nor see a half-written snapshot.
  // synchronous=FULL: a receipt is printed only after its commit is durable.
  GW_RETURN_IF_ERROR(c.Exec("PRAGMA journal_mode=WAL"));
  GW_RETURN_IF_ERROR(c.Exec("PRAGMA synchronous=FULL"));
  GW_RETURN_IF_ERROR(c.Exec("PRAGMA foreign_keys=ON"));
  return Status::Ok();
}

Status Migrate(sql::Connection& c) {
  GW_ASSIGN_OR_RETURN(auto st, c.Prepare("PRAGMA user_version"));
  GW_ASSIGN_OR_RETURN(bool row, st.Step());
  int version = row ? static_cast<int>(st.Int(0)) : 0;
  constexpr int kLatest = static_cast<int>(std::size(kMigrations));
  if (version > kLatest) {
    return Status::Corruption("database schema version " + std::to_string(version) +
                              " is newer than this gateway (" + std::to_string(kLatest) +
                              "); use a newer gateway binary");
  }
  for (int v = version; v < kLatest; ++v) {
    GW_ASSIGN_OR_RETURN(auto tx, sql::Transaction::Begin(c));
    GW_RETURN_IF_ERROR(c.Exec(kMigrations[v]));
    GW_RETURN_IF_ERROR(c.Exec("PRAGMA user_version=" + std::to_string(v + 1)));
    GW_RETURN_IF_ERROR(tx->Commit());
  }
  return Status::Ok();
}

SnapshotInfo ReadSnapshotRow(const sql::Statement& st) {
  SnapshotInfo s;
  s.id = st.Int(0);
  s.country = st.Text(1);
  s.ref_date = st.Text(2);
  s.version = st.Int(3);
  s.profile = st.Text(4);
  s.digest = st.Text(5);
  s.created_at = st.Text(6);
  s.rows = st.Int(7);
  s.accepted = st.Int(8);
  s.expired = st.Int(9);
  s.in_stock = st.Int(10);
  s.rejected = st.Int(11);
  s.receipt_json = st.Text(12);
  s.current = st.Int(13) != 0;
  return s;
}

constexpr const char* kSnapshotColumns =
    "s.id, s.country, s.ref_date, s.version, s.profile, s.digest, s.created_at, s.rows, "
    "s.accepted, s.expired, s.in_stock, s.rejected, s.receipt, "
    "(c.snapshot_id IS NOT NULL) ";

}  // namespace

class SqliteSnapshotWriter : public SnapshotWriter {
 public:
  SqliteSnapshotWriter(std::unique_lock<std::mutex> lock, sql::Connection& conn,
                       std::unique_ptr<sql::Transaction> tx, int64_t snapshot_id, int64_t version,
                       sql::Statement insert_person, std::string temp_dir, ChangeStamp& stamp)
      : stamp_(stamp),
        lock_(std::move(lock)),
        conn_(conn),
        tx_(std::move(tx)),
        snapshot_id_(snapshot_id),
        version_(version),
        insert_person_(std::move(insert_person)),
        // 64 MiB of persons per sorted run: with SQLite's 64 MiB page cache,
        // an ingest stays well under the 200 MB memory target for any file.
        persons_(size_t{64} << 20, std::move(temp_dir)) {}

  int64_t version() const override { return version_; }

  Status AddPerson(const PersonKey& key, const StoredPerson& p, uint64_t row) override {
    PackedPerson packed;
    packed.key = key;
    packed.row = row;
    packed.in_stock = p.in_stock ? 1 : 0;
    const std::pair<char*, size_t> fields[] = {
        {packed.pop_type, sizeof packed.pop_type}, {packed.coo, sizeof packed.coo},
        {packed.sex, sizeof packed.sex},           {packed.age, sizeof packed.age},
        {packed.region, sizeof packed.region},     {packed.reg_month, sizeof packed.reg_month},
        {packed.valid_until, sizeof packed.valid_until}};
    const std::string* values[] = {&p.pop_type, &p.coo,       &p.sex,        &p.age,
                                   &p.region,   &p.reg_month, &p.valid_until};
    for (size_t i = 0; i < std::size(fields); ++i) {
      if (values[i]->size() >= fields[i].second) {
        return Status::Internal("a shared-schema code is longer than its stored field");
      }
      std::memcpy(fields[i].first, values[i]->data(), values[i]->size());
    }
    return persons_.Add(packed);
  }

  Result<std::vector<Duplicate>> ResolvePersons(bool store) override {
    std::vector<Duplicate> duplicates;
    PersonKey previous{};
    bool first = true;
    // Cells as their five fixed-size code fields side by side: no allocation per person.
    struct CellFields {
      char bytes[sizeof(PackedPerson::pop_type) + sizeof(PackedPerson::coo) + sizeof(PackedPerson::sex) +
                 sizeof(PackedPerson::age) + sizeof(PackedPerson::region)];
      bool operator==(const CellFields& o) const { return std::memcmp(bytes, o.bytes, sizeof bytes) == 0; }
    };
    struct CellHash {
      size_t operator()(const CellFields& c) const {
        return std::hash<std::string_view>()(std::string_view(c.bytes, sizeof c.bytes));
      }
    };
    std::unordered_map<CellFields, int64_t, CellHash> in_stock;
    in_stock.reserve(size_t{1} << 16);
    auto& st = insert_person_;
    GW_RETURN_IF_ERROR(persons_.Drain([&](const PackedPerson& p) -> Status {
      if (!first && p.key == previous) {
        duplicates.push_back(Duplicate{p.row, p.in_stock != 0});
        return Status::Ok();
      }
      first = false;
      previous = p.key;
      if (!store) return Status::Ok();
      auto field = [](const char* f, size_t n) { return PackedPerson::Field(f, n); };
      st.Bind(1, snapshot_id_)
          .BindBlob(2, p.key.data(), p.key.size())
          .Bind(3, field(p.pop_type, sizeof p.pop_type))
          .Bind(4, field(p.coo, sizeof p.coo))
          .Bind(5, field(p.sex, sizeof p.sex))
          .Bind(6, field(p.age, sizeof p.age))
          .Bind(7, field(p.region, sizeof p.region))
          .Bind(8, field(p.reg_month, sizeof p.reg_month))
          .Bind(10, static_cast<int64_t>(p.in_stock));
      if (p.valid_until[0] == '\0') {
        st.BindNull(9);
      } else {
        st.Bind(9, field(p.valid_until, sizeof p.valid_until));
      }
      GW_RETURN_IF_ERROR(st.Run());
      if (p.in_stock) {
        CellFields cell;
        char* at = cell.bytes;
        for (auto [f, n] : {std::pair<const char*, size_t>{p.pop_type, sizeof p.pop_type},
                            {p.coo, sizeof p.coo}, {p.sex, sizeof p.sex}, {p.age, sizeof p.age},
                            {p.region, sizeof p.region}}) {
          std::memcpy(at, f, n);
          at += n;
        }
        ++in_stock[cell];
      }
      return Status::Ok();
    }));
    for (const auto& [cell, count] : in_stock) {
      const char* at = cell.bytes;
      CellKey key;
      const size_t sizes[] = {sizeof(PackedPerson::pop_type), sizeof(PackedPerson::coo),
                              sizeof(PackedPerson::sex), sizeof(PackedPerson::age),
                              sizeof(PackedPerson::region)};
      for (size_t i = 0; i < key.size(); ++i) {
        key[i] = std::string(PackedPerson::Field(at, sizes[i]));
        at += sizes[i];
      }
      cube_[key] += count;
    }
    return duplicates;
  }

  void AddCount(const CellKey& cell, int64_t count) override { cube_[cell] += count; }

  Status Commit(const std::string& digest, const SnapshotTotals& t,
                const std::string& receipt_json, const std::string& actor) override {
    GW_ASSIGN_OR_RETURN(auto cells, conn_.Prepare(
        "INSERT INTO cells(snapshot_id, pop_type, coo, sex, age, region, count) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"));
    for (const auto& [key, count] : cube_) {
      if (count == 0) continue;
      cells.Bind(1, snapshot_id_);
      for (int i = 0; i < 5; ++i) cells.Bind(i + 2, key[i]);
      cells.Bind(7, count);
      GW_RETURN_IF_ERROR(cells.Run());
    }
    GW_ASSIGN_OR_RETURN(auto upd, conn_.Prepare(
        "UPDATE snapshots SET digest = ?, rows = ?, accepted = ?, expired = ?, in_stock = ?, "
        "rejected = ?, receipt = ? WHERE id = ?"));
    upd.Bind(1, digest).Bind(2, t.rows).Bind(3, t.accepted).Bind(4, t.expired).Bind(5, t.in_stock);
    upd.Bind(6, t.rejected).Bind(7, receipt_json).Bind(8, snapshot_id_);
    GW_RETURN_IF_ERROR(upd.Run());
    GW_ASSIGN_OR_RETURN(auto cur, conn_.Prepare(
        "INSERT INTO current_snapshots(country, ref_date, snapshot_id) "
        "SELECT country, ref_date, id FROM snapshots WHERE id = ?1 "
        "ON CONFLICT(country, ref_date) DO UPDATE SET snapshot_id = excluded.snapshot_id"));
    cur.Bind(1, snapshot_id_);
    GW_RETURN_IF_ERROR(cur.Run());
    GW_ASSIGN_OR_RETURN(auto info, conn_.Prepare(
        "SELECT country, ref_date, version, profile FROM snapshots WHERE id = ?"));
    info.Bind(1, snapshot_id_);
    GW_ASSIGN_OR_RETURN(bool found, info.Step());
    if (!found) return Status::Internal("snapshot row vanished before commit");
    nlohmann::json detail = {{"country", info.Text(0)}, {"ref_date", info.Text(1)},
                             {"version", info.Int(2)},  {"profile", info.Text(3)},
                             {"digest", digest},        {"rows", t.rows},
                             {"in_stock", t.in_stock},  {"rejected", t.rejected}};
    GW_RETURN_IF_ERROR(AppendAuditTx(conn_, "snapshot.commit", actor, detail.dump()));
    GW_RETURN_IF_ERROR(tx_->Commit());
    stamp_.Bump();  // a new current version
    return Status::Ok();
  }

 private:
  ChangeStamp& stamp_;
  std::unique_lock<std::mutex> lock_;
  sql::Connection& conn_;
  std::unique_ptr<sql::Transaction> tx_;
  int64_t snapshot_id_;
  int64_t version_;
  sql::Statement insert_person_;
  PersonSorter persons_;
  std::map<CellKey, int64_t> cube_;
};

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(audit_mu_);
    audit_stop_ = true;
  }
  audit_wakeup_.notify_one();
  if (audit_thread_.joinable()) audit_thread_.join();
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, bool create,
                                           std::chrono::milliseconds busy_timeout) {
  std::unique_ptr<Store> store(new Store(path, busy_timeout));
  GW_ASSIGN_OR_RETURN(store->writer_,
                      sql::Connection::Open(path,
                                            create ? sql::Connection::Mode::kReadWriteCreate
                                                   : sql::Connection::Mode::kReadWrite,
                                            busy_timeout));
  GW_RETURN_IF_ERROR(Configure(*store->writer_));
  // The writer inserts persons keyed by a hash, so in no useful order: a page
  // cache of 64 MiB keeps the B-tree pages it touches in memory for files of
  // about a million persons, and bounds the memory for any larger one.
  GW_RETURN_IF_ERROR(store->writer_->Exec("PRAGMA cache_size=-65536"));
  GW_RETURN_IF_ERROR(Migrate(*store->writer_));
  // Without the stamp file (a read-only directory) the caches stay off.
  store->stamp_.Open(path);
  return store;
}

Result<std::unique_ptr<sql::Connection>> Store::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_readers_.empty()) {
      auto c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return c;
    }
  }
  GW_ASSIGN_OR_RETURN(auto c, sql::Connection::Open(path_, sql::Connection::Mode::kReadWrite, busy_timeout_));
  GW_RETURN_IF_ERROR(c->Exec("PRAGMA query_only=ON"));
  return c;
}

void Store::ReleaseReader(std::unique_ptr<sql::Connection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_readers_.push_back(std::move(conn));
}

Result<std::unique_ptr<SnapshotWriter>> Store::BeginSnapshot(const std::string& country,
                                                             const std::string& ref_date,
                                                             const std::string& profile) {
  std::unique_lock<std::mutex> lock(writer_mu_);
  sql::Connection& c = *writer_;
  GW_ASSIGN_OR_RETURN(auto tx, sql::Transaction::Begin(c));
  GW_ASSIGN_OR_RETURN(auto next, c.Prepare(
      "SELECT COALESCE(MAX(version), 0) + 1 FROM snapshots WHERE country = ? AND ref_date = ?"));
  next.Bind(1, country).Bind(2, ref_date);
  GW_ASSIGN_OR_RETURN(bool has, next.Step());
  int64_t version = has ? next.Int(0) : 1;
  GW_ASSIGN_OR_RETURN(auto ins, c.Prepare(
      "INSERT INTO snapshots(country, ref_date, version, profile, digest, created_at, rows, "
      "accepted, expired, in_stock, rejected, receipt) VALUES (?, ?, ?, ?, '', ?, 0, 0, 0, 0, 0, '')"));
  ins.Bind(1, country).Bind(2, ref_date).Bind(3, version).Bind(4, profile).Bind(5, UtcNowIso());
  GW_RETURN_IF_ERROR(ins.Run());
  int64_t id = c.LastInsertRowid();
  GW_ASSIGN_OR_RETURN(auto person, c.Prepare(
      "INSERT INTO persons(snapshot_id, person_key, pop_type, coo, sex, age, region, reg_month, "
      "valid_until, in_stock) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  // Sort runs spill next to the database: the data directory is sized for it.
  std::string temp_dir = std::filesystem::path(path_).parent_path().string();
  return std::unique_ptr<SnapshotWriter>(new SqliteSnapshotWriter(
      std::move(lock), c, std::move(tx), id, version, std::move(person),
      temp_dir.empty() ? std::string(".") : temp_dir, stamp_));
}

Result<std::optional<SnapshotInfo>> Store::CurrentSnapshot(const std::string& country,
                                                           const std::string& ref_date) {
  return WithReader([&](sql::Connection& c) -> Result<std::optional<SnapshotInfo>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare(std::string("SELECT ") + kSnapshotColumns +
                                           "FROM current_snapshots c JOIN snapshots s ON "
                                           "s.id = c.snapshot_id WHERE c.country = ? AND c.ref_date = ?"));
    st.Bind(1, country).Bind(2, ref_date);
    GW_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<SnapshotInfo>();
    return std::optional<SnapshotInfo>(ReadSnapshotRow(st));
  });
}

Result<std::vector<SnapshotInfo>> Store::CurrentSnapshots(const std::string& ref_date) {
  const uint64_t stamp = stamp_.Load();
  if (auto cached = current_by_date_.Get(ref_date, stamp)) return *cached;
  auto read = WithReader([&](sql::Connection& c) -> Result<std::vector<SnapshotInfo>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare(std::string("SELECT ") + kSnapshotColumns +
                                           "FROM current_snapshots c JOIN snapshots s ON "
                                           "s.id = c.snapshot_id WHERE c.ref_date = ? ORDER BY s.country"));
    st.Bind(1, ref_date);
    std::vector<SnapshotInfo> out;
    while (true) {
      GW_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(ReadSnapshotRow(st));
      out.back().receipt_json.clear();  // see store.h: not needed per query, and large
    }
    return out;
  });
  if (read.ok()) current_by_date_.Put(ref_date, stamp, std::make_shared<const std::vector<SnapshotInfo>>(*read));
  return read;
}

Result<std::vector<SnapshotInfo>> Store::ListSnapshots(const std::string& country) {
  return WithReader([&](sql::Connection& c) -> Result<std::vector<SnapshotInfo>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare(std::string("SELECT ") + kSnapshotColumns +
                                           "FROM snapshots s LEFT JOIN current_snapshots c ON "
                                           "c.snapshot_id = s.id WHERE (?1 = '' OR s.country = ?1) "
                                           "AND s.digest != '' "
                                           "ORDER BY s.ref_date DESC, s.country, s.version DESC"));
    st.Bind(1, country);
    std::vector<SnapshotInfo> out;
    while (true) {
      GW_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(ReadSnapshotRow(st));
    }
    return out;
  });
}

Result<std::vector<CountRow>> Store::ReadCounts(
    int64_t snapshot_id, const std::vector<Dim>& dims,
    const std::array<std::vector<std::string>, kDimCount>& filters) {
  // Column names come from the fixed lattice (DimName), never from input;
  // filter values are bound parameters.
  std::string select, group, where = "snapshot_id = ?";
  for (Dim d : dims) {
    if (d == Dim::kCoa) return Status::Internal("coa is not a column of the counts table");
    std::string col(DimName(d));
    select += col + ", ";
    group += (group.empty() ? "" : ", ") + col;
  }
  std::vector<std::string> binds;
  for (Dim d : kAllDims) {
    const auto& values = filters[DimIndex(d)];
    if (d == Dim::kCoa || values.empty()) continue;
    where += " AND " + std::string(DimName(d)) + " IN (";
    for (size_t i = 0; i < values.size(); ++i) {
      where += i ? ", ?" : "?";
      binds.push_back(values[i]);
    }
    where += ")";
  }
  std::string sql = "SELECT " + select + "SUM(count) FROM cells WHERE " + where;
  if (!group.empty()) sql += " GROUP BY " + group + " ORDER BY " + group;
  return WithReader([&](sql::Connection& c) -> Result<std::vector<CountRow>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare(sql));
    st.Bind(1, snapshot_id);
    for (size_t i = 0; i < binds.size(); ++i) st.Bind(static_cast<int>(i + 2), binds[i]);
    std::vector<CountRow> out;
    while (true) {
      GW_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      CountRow r;
      for (size_t i = 0; i < dims.size(); ++i) r.values.push_back(st.Text(static_cast<int>(i)));
      if (st.IsNull(static_cast<int>(dims.size()))) continue;  // SUM over no rows
      r.count = st.Int(static_cast<int>(dims.size()));
      out.push_back(std::move(r));
    }
    return out;
  });
}

Status Store::AddConsumer(const std::string& name, const std::string& role,
                          const std::string& token_hash, const std::string& actor) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  GW_ASSIGN_OR_RETURN(auto tx, sql::Transaction::Begin(*writer_));
  GW_ASSIGN_OR_RETURN(auto st, writer_->Prepare(
      "INSERT INTO consumers(name, role, token_hash, created_at) VALUES (?, ?, ?, ?)"));
  st.Bind(1, name).Bind(2, role).BindBlob(3, token_hash.data(), token_hash.size()).Bind(4, UtcNowIso());
  Status s = st.Run();
  if (!s.ok() && s.message().find("UNIQUE") != std::string::npos) {
    return Status::Conflict("a consumer named \"" + name + "\" already exists");
  }
  GW_RETURN_IF_ERROR(s);
  GW_RETURN_IF_ERROR(AppendAuditTx(*writer_, "consumer.add", actor,
                                   nlohmann::json{{"consumer", name}, {"role", role}}.dump()));
  GW_RETURN_IF_ERROR(tx->Commit());
  stamp_.Bump();
  return Status::Ok();
}

Result<std::optional<ConsumerInfo>> Store::FindConsumerByTokenHash(const std::string& token_hash) {
  const uint64_t stamp = stamp_.Load();
  if (auto cached = consumers_by_token_.Get(token_hash, stamp)) return std::optional<ConsumerInfo>(*cached);
  auto found = WithReader([&](sql::Connection& c) -> Result<std::optional<ConsumerInfo>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare("SELECT name, role FROM consumers WHERE token_hash = ?"));
    st.BindBlob(1, token_hash.data(), token_hash.size());
    GW_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<ConsumerInfo>();
    return std::optional<ConsumerInfo>(ConsumerInfo{st.Text(0), st.Text(1)});
  });
  // Only tokens that exist are kept: unknown ones cannot fill the cache.
  if (found.ok() && found->has_value()) {
    consumers_by_token_.Put(token_hash, stamp, std::make_shared<const ConsumerInfo>(**found));
  }
  return found;
}

Result<std::vector<ConsumerInfo>> Store::ListConsumers() {
  return WithReader([&](sql::Connection& c) -> Result<std::vector<ConsumerInfo>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare("SELECT name, role FROM consumers ORDER BY name"));
    std::vector<ConsumerInfo> out;
    while (true) {
      GW_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(ConsumerInfo{st.Text(0), st.Text(1)});
    }
    return out;
  });
}

Status Store::CheckIntegrity() {
  return WithReader([&](sql::Connection& c) -> Status {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare("PRAGMA quick_check"));
    GW_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row || st.Text(0) != "ok") {
      return Status::Corruption("database " + path_ + " failed its integrity check" +
                                (row ? ": " + st.Text(0) : std::string()));
    }
    return Status::Ok();
  });
}

}  // namespace gw
