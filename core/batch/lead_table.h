// Leads held as columns, the way data tools keep them (a DataFrame, an Arrow
// table, a database cursor): one table of leads and one of their events. Each
// v1::Lead is built on demand from its row, so millions of leads are scored
// without ever holding millions of messages, and scores come back as columns.
//
// Lead columns are named like the CSV columns of lead_io.h: id, first_name,
// last_name, email, phone, job_title, department, seniority, company_name,
// company_domain, industry, employee_count, annual_revenue, country, region,
// source, campaign, product, opted_out, do_not_email, do_not_call,
// created_at, and attributes.<key>. Event columns: lead_id (the id of the
// lead the event belongs to), id, type, occurred_at, custom_type and
// properties.<key>.
#ifndef SMARKETING_CORE_BATCH_LEAD_TABLE_H_
#define SMARKETING_CORE_BATCH_LEAD_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/compiled_playbook.h"
#include "core/scoring/scorer.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// A view of one column; the caller keeps the memory alive while the table is
// used. Exactly the spans of its type are set.
struct Column {
  enum class Type { kText, kInt, kDouble, kBool, kTime, kValue };
  // kValue: the JSON type of each row of an attributes.<key> or
  // properties.<key> column whose values change type from row to row (as
  // leads read from JSON do).
  enum ValueKind : uint8_t { kMissing, kNumber, kBool, kText, kJson };
  std::string name;
  Type type = Type::kText;
  // kText: a view per row, or, for categorical data, a code per row into
  // `dictionary` (a negative code is a missing value). Codes come in the
  // width the data tool keeps them in, without conversion: exactly one of
  // `codes`, `codes16` and `codes8` is set.
  absl::Span<const absl::string_view> text;
  absl::Span<const int32_t> codes;
  absl::Span<const int16_t> codes16;
  absl::Span<const int8_t> codes8;
  absl::Span<const absl::string_view> dictionary;
  // kInt, and kTime as ticks since the Unix epoch (UTC).
  absl::Span<const int64_t> ints;
  // kTime: ticks per second, 1 (seconds), 1000, 1000000 or 1000000000
  // (nanoseconds).
  int64_t ticks_per_second = 1000000000;
  absl::Span<const double> doubles;
  absl::Span<const uint8_t> bools;
  // kValue: a ValueKind per row; the value is in `doubles` (kNumber),
  // `bools` (kBool) or `text` (kText, and kJson: a list or an object as
  // JSON). kMissing rows are also 0 in `present`.
  absl::Span<const uint8_t> kinds;
  // 0 where the value is missing (None, NaN, NaT); empty when none is.
  absl::Span<const uint8_t> present;

  int64_t size() const;
  bool missing(int64_t row) const { return !present.empty() && !present[row]; }
  bool categorical() const {
    return !codes.empty() || !codes16.empty() || !codes8.empty();
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE int32_t code(int64_t row) const {
    if (!codes8.empty()) return codes8[row];
    if (!codes16.empty()) return codes16[row];
    return codes[row];
  }
};

// Whether LeadTable reads a leads (events) column of this name:
// attributes.<key> (properties.<key>) or one of the names above.
bool IsLeadColumn(absl::string_view name);
bool IsEventColumn(absl::string_view name);
// The names, for messages: "id, first_name, ..., attributes.<key>".
std::string KnownLeadColumnNames();
std::string KnownEventColumnNames();

// Leads and their events as columns, checked once. A missing value leaves its
// field unset (an attribute or property absent), except where the lead or
// event cannot be read without it: a lead's id, an event's lead_id, id
// (when the column is given), type and occurred_at, and consent, which is
// never guessed.
class LeadTable {
 public:
  // Checks every column name, type and value that can be checked before
  // scoring, and groups events by lead (keeping their order). Errors are
  // INVALID_ARGUMENT naming the table ("leads" or "events"), the column and
  // the first bad row, with the problem attached (path "leads.<column>" or
  // "events.<column>"); unknown columns are all named at once, a problem
  // each. Without an `id` column in events, each event row is
  // a distinct event.
  static absl::StatusOr<std::unique_ptr<LeadTable>> Create(
      std::vector<Column> leads, std::vector<Column> events);

  ~LeadTable();

  int64_t size() const { return rows_; }
  int64_t event_count() const { return event_rows_; }

  // Lead `row` into *lead, cleared first. To build many leads one after the
  // other, TableLeadBuilder allocates far less.
  void Build(int64_t row, v1::Lead* lead) const;

  // The events table row of event `index` of lead `row`, for error messages.
  int64_t EventRow(int64_t row, int index) const;

 private:
  friend class TableLeadBuilder;
  LeadTable() = default;
  struct Field;
  // Lead `row` into *lead, which is empty.
  void Fill(int64_t row, v1::Lead* lead) const;
  // The lead's own fields (not its events) into *lead; `reuse`: *lead holds
  // an earlier lead, whose fields are overwritten or cleared.
  void FillLead(int64_t row, bool reuse, v1::Lead* lead) const;
  // Event row `e` into *event; `reuse` as for FillLead.
  void FillEvent(int64_t e, bool reuse, v1::Event* event) const;
  // Whether event row `e` has a value for property_fields_[i].
  bool HasProperty(int64_t e, size_t i) const;
  int64_t EventAt(int64_t i) const {
    return event_order_.empty() ? i : event_order_[i];
  }
  absl::Status BindLeads(std::vector<Column> columns);
  absl::Status BindEvents(std::vector<Column> columns);
  absl::Status GroupEvents();
  void MarkProperties();

  int64_t rows_ = 0;
  int64_t event_rows_ = 0;
  std::vector<Column> lead_columns_;
  std::vector<Column> event_columns_;
  std::vector<Field> lead_fields_;
  std::vector<Field> event_fields_;
  // Of event_fields_, the properties.<key> columns.
  std::vector<Field> property_fields_;
  // Per event row, bit i set when property_fields_[i] has a value there, so
  // that building an event looks at the few properties it has rather than
  // at every property column. Empty with more than 32 property columns.
  std::vector<uint32_t> property_present_;
  // Enums read from text, resolved once: seniority per lead, type per event.
  std::vector<int32_t> seniority_;
  std::vector<int32_t> event_type_;
  // Events of lead `r`: event_order_[event_begin_[r] .. event_begin_[r + 1]),
  // or those rows themselves when event_order_ is empty (the events table
  // lists the events lead by lead already).
  std::vector<int64_t> event_begin_;
  std::vector<int64_t> event_order_;
  int lead_id_column_ = -1;
  int event_id_column_ = -1;
  int occurred_at_column_ = -1;
  int custom_type_column_ = -1;
};

// Builds leads of a table one after the other into one message per
// builder, overwritten in place from lead to lead: its strings, events and
// property maps keep their storage, so that building a lead allocates
// (almost) nothing. The lead is the same for scoring as LeadTable::Build's,
// but sub-messages (contact, company, consent) may be present though empty.
// One per thread; the table must outlive it.
class TableLeadBuilder {
 public:
  explicit TableLeadBuilder(const LeadTable& table);
  TableLeadBuilder(const TableLeadBuilder&) = delete;
  TableLeadBuilder& operator=(const TableLeadBuilder&) = delete;
  ~TableLeadBuilder();

  // Lead `row` of the table, valid until the next call.
  const v1::Lead& Build(int64_t row);

  // Lead `row` laid out in `flat`, over its own fields (valid until the
  // next call), when the lead is valid as ValidateLead checks it and its
  // properties are plain values; null otherwise, for Build and the
  // scorer's checks to name what is wrong. No v1::Event or Struct is built
  // for its events: what nearly every lead takes.
  const v1::Lead* BuildFlat(int64_t row, FlatLead* flat);

  // Lead `row` without its events, valid until the next call: for what
  // reads only the lead's own fields, such as routing rules (conditions of
  // lead scope, which cannot name event fields).
  const v1::Lead& BuildWithoutEvents(int64_t row);

 private:
  // Moves the lead's events to the pools.
  void RecycleEvents();

  const LeadTable& table_;
  v1::Lead lead_;
  // Events of earlier leads, not cleared, by type; owned.
  std::vector<std::vector<v1::Event*>> spare_;
  std::vector<v1::Event*> extracted_;
  // BuildFlat's event ids written from integers, viewed by the FlatLead.
  std::string ids_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_BATCH_LEAD_TABLE_H_
