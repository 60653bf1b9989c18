// The differential-privacy budget ledger of Store; see store.h.
#include <algorithm>
#include <ctime>
#include <optional>

#include "gateway/storage/store.h"

namespace gw {
Result<std::vector<ChargeOutcome>> Store::ChargeBudget(const std::string& consumer,
                                                       const std::vector<BudgetCharge>& charges,
                                                       bool all_or_nothing) {
  // Repeats are the common case and cost nothing: answer them from a read
  // connection, without queueing for the write lock. A table found here is
  // committed in the ledger, so the answer cannot go stale. The answer (what
  // was spent) is kept until the ledger changes: every debit moves the stamp.
  std::string repeat_key = consumer;
  for (const BudgetCharge& ch : charges) {
    repeat_key += '\n' + ch.country + '\t' + ch.ref_date + '\t' + std::to_string(ch.version) + '\t' +
                  std::to_string(ch.budget_micro);
    for (const auto& key : ch.table_keys) repeat_key += '\t' + key;
  }
  const uint64_t stamp = stamp_.Load();
  if (auto cached = repeat_charges_.Get(repeat_key, stamp)) return *cached;
  auto repeat = WithReader([&](sql::Connection& c) -> Result<std::optional<std::vector<ChargeOutcome>>> {
    GW_ASSIGN_OR_RETURN(auto known, c.Prepare(
        "SELECT 1 FROM budget_ledger WHERE consumer = ? AND country = ? AND ref_date = ? AND "
        "version = ? AND table_key = ?"));
    GW_ASSIGN_OR_RETURN(auto spent, c.Prepare(
        "SELECT COALESCE(SUM(epsilon_micro), 0) FROM budget_ledger WHERE consumer = ? AND "
        "country = ? AND ref_date = ?"));
    std::vector<ChargeOutcome> outcomes;
    for (const BudgetCharge& ch : charges) {
      for (const auto& key : ch.table_keys) {
        GW_RETURN_IF_ERROR(known.Reset());
        known.Bind(1, consumer).Bind(2, ch.country).Bind(3, ch.ref_date).Bind(4, ch.version).Bind(5, key);
        GW_ASSIGN_OR_RETURN(bool seen, known.Step());
        if (!seen) return std::optional<std::vector<ChargeOutcome>>();
      }
      GW_RETURN_IF_ERROR(spent.Reset());
      spent.Bind(1, consumer).Bind(2, ch.country).Bind(3, ch.ref_date);
      GW_ASSIGN_OR_RETURN(bool has, spent.Step());
      ChargeOutcome out;
      out.granted = true;
      out.spent_before_micro = has ? spent.Int(0) : 0;
      out.remaining_micro = std::max<int64_t>(0, ch.budget_micro - out.spent_before_micro);
      outcomes.push_back(out);
    }
    return std::optional<std::vector<ChargeOutcome>>(std::move(outcomes));
  });
  if (!repeat.ok()) return repeat.status();
  if (*repeat) {
    repeat_charges_.Put(repeat_key, stamp, std::make_shared<const std::vector<ChargeOutcome>>(**repeat));
    return std::move(**repeat);
  }

  std::lock_guard<std::mutex> lock(writer_mu_);
  sql::Connection& c = *writer_;
  // BEGIN IMMEDIATE takes SQLite's write lock before the first read, so the
  // sums below cannot go stale before the inserts (other processes included).
  GW_ASSIGN_OR_RETURN(auto tx, sql::Transaction::Begin(c));
  GW_ASSIGN_OR_RETURN(auto known, c.Prepare(
      "SELECT 1 FROM budget_ledger WHERE consumer = ? AND country = ? AND ref_date = ? AND "
      "version = ? AND table_key = ?"));
  GW_ASSIGN_OR_RETURN(auto spent, c.Prepare(
      "SELECT COALESCE(SUM(epsilon_micro), 0) FROM budget_ledger WHERE consumer = ? AND "
      "country = ? AND ref_date = ?"));
  GW_ASSIGN_OR_RETURN(auto global, c.Prepare(
      "SELECT COALESCE(SUM(epsilon_micro), 0) FROM budget_ledger WHERE country = ? AND ref_date = ?"));
  GW_ASSIGN_OR_RETURN(auto insert, c.Prepare(
      "INSERT INTO budget_ledger(consumer, country, ref_date, version, table_key, epsilon_micro, "
      "released_at) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  const std::string now = UtcNowIso();

  std::vector<ChargeOutcome> outcomes;
  std::vector<std::vector<std::string>> fresh_tables;
  for (const BudgetCharge& ch : charges) {
    std::vector<std::string> fresh;
    for (const auto& key : ch.table_keys) {
      GW_RETURN_IF_ERROR(known.Reset());
      known.Bind(1, consumer).Bind(2, ch.country).Bind(3, ch.ref_date).Bind(4, ch.version).Bind(5, key);
      GW_ASSIGN_OR_RETURN(bool seen, known.Step());
      bool listed_twice = false;
      for (const auto& f : fresh) listed_twice |= f == key;
      if (!seen && !listed_twice) fresh.push_back(key);
    }
    ChargeOutcome out;
    out.new_tables = static_cast<int64_t>(fresh.size());
    out.cost_micro = out.new_tables * ch.epsilon_micro;
    GW_RETURN_IF_ERROR(spent.Reset());
    spent.Bind(1, consumer).Bind(2, ch.country).Bind(3, ch.ref_date);
    GW_ASSIGN_OR_RETURN(bool has_spent, spent.Step());
    out.spent_before_micro = has_spent ? spent.Int(0) : 0;
    GW_RETURN_IF_ERROR(global.Reset());
    global.Bind(1, ch.country).Bind(2, ch.ref_date);
    GW_ASSIGN_OR_RETURN(bool has_global, global.Step());
    out.global_spent_micro = has_global ? global.Int(0) : 0;

    bool within_budget = out.spent_before_micro + out.cost_micro <= ch.budget_micro;
    out.global_cap_reached =
        ch.global_cap_micro > 0 && out.global_spent_micro + out.cost_micro > ch.global_cap_micro;
    out.granted = within_budget && !out.global_cap_reached;
    out.remaining_micro = out.granted
                              ? ch.budget_micro - out.spent_before_micro - out.cost_micro
                              : std::max<int64_t>(0, ch.budget_micro - out.spent_before_micro);
    outcomes.push_back(out);
    fresh_tables.push_back(std::move(fresh));
  }
  bool refused = std::any_of(outcomes.begin(), outcomes.end(), [](const auto& o) { return !o.granted; });
  if (all_or_nothing && refused) {
    for (auto& o : outcomes) {
      if (o.granted) o.remaining_micro += o.cost_micro;
      o.granted = false;
    }
    return outcomes;  // the transaction rolls back: nothing debited
  }
  for (size_t i = 0; i < charges.size(); ++i) {
    if (!outcomes[i].granted) continue;
    const BudgetCharge& ch = charges[i];
    for (const auto& key : fresh_tables[i]) {
      GW_RETURN_IF_ERROR(insert.Reset());
      insert.Bind(1, consumer).Bind(2, ch.country).Bind(3, ch.ref_date).Bind(4, ch.version);
      insert.Bind(5, key).Bind(6, ch.epsilon_micro).Bind(7, now);
      GW_RETURN_IF_ERROR(insert.Run());
    }
  }
  GW_RETURN_IF_ERROR(tx->Commit());
  stamp_.Bump();
  return outcomes;
}

Result<std::vector<BudgetUse>> Store::ListBudgetUse(const std::string& consumer) {
  return WithReader([&](sql::Connection& c) -> Result<std::vector<BudgetUse>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare(
        "SELECT consumer, country, ref_date, SUM(epsilon_micro), COUNT(*) FROM budget_ledger "
        "WHERE ?1 = '' OR consumer = ?1 GROUP BY consumer, country, ref_date "
        "ORDER BY consumer, country, ref_date"));
    st.Bind(1, consumer);
    std::vector<BudgetUse> out;
    while (true) {
      GW_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(BudgetUse{st.Text(0), st.Text(1), st.Text(2), st.Int(3), st.Int(4)});
    }
    return out;
  });
}

Result<bool> Store::HasBudgetEntries() {
  return WithReader([&](sql::Connection& c) -> Result<bool> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare("SELECT 1 FROM budget_ledger LIMIT 1"));
    return st.Step();
  });
}

}  // namespace gw
