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
#ifndef SMARKETING_CORE_LEAD_TABLE_H_
#define SMARKETING_CORE_LEAD_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "compiled_playbook.h"
#include "lead_engine.h"
#include "scorer.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// A view of one column; the caller keeps the memory alive while the table is
// used. Exactly the spans of its type are set.
struct Column {
  enum class Type { kText, kInt, kDouble, kBool, kTime };
  std::string name;
  Type type = Type::kText;
  // kText: a view per row, or, when `codes` is set, a code per row into
  // `dictionary` (categorical data; a negative code is a missing value).
  absl::Span<const absl::string_view> text;
  absl::Span<const int32_t> codes;
  absl::Span<const absl::string_view> dictionary;
  // kInt, and kTime as nanoseconds since the Unix epoch (UTC).
  absl::Span<const int64_t> ints;
  absl::Span<const double> doubles;
  absl::Span<const uint8_t> bools;
  // 0 where the value is missing (None, NaN, NaT); empty when none is.
  absl::Span<const uint8_t> present;

  int64_t size() const;
  bool missing(int64_t row) const { return !present.empty() && !present[row]; }
};

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
  // "events.<column>"). Without an `id` column in events, each event row is
  // a distinct event.
  static absl::StatusOr<std::unique_ptr<LeadTable>> Create(
      std::vector<Column> leads, std::vector<Column> events);

  ~LeadTable();

  int64_t size() const { return rows_; }
  int64_t event_count() const { return event_rows_; }

  // Lead `row` into *lead, cleared first.
  void Build(int64_t row, v1::Lead* lead) const;

  // Lead `row` into *lead, overwriting in place the previous lead that
  // Refill put there (its events, strings and maps keep their storage): the
  // same lead for scoring, but sub-messages may be present though empty.
  void Refill(int64_t row, v1::Lead* lead) const;

  // The events table row of event `index` of lead `row`, for error messages.
  int64_t EventRow(int64_t row, int index) const;

 private:
  LeadTable() = default;
  struct Field;
  void Fill(int64_t row, bool reuse, v1::Lead* lead) const;
  absl::Status BindLeads(std::vector<Column> columns);
  absl::Status BindEvents(std::vector<Column> columns);
  absl::Status GroupEvents();

  int64_t rows_ = 0;
  int64_t event_rows_ = 0;
  std::vector<Column> lead_columns_;
  std::vector<Column> event_columns_;
  std::vector<Field> lead_fields_;
  std::vector<Field> event_fields_;
  // Enums read from text, resolved once: seniority per lead, type per event.
  std::vector<int32_t> seniority_;
  std::vector<int32_t> event_type_;
  // Events of lead `r`: event_order_[event_begin_[r] .. event_begin_[r + 1]).
  std::vector<int64_t> event_begin_;
  std::vector<int64_t> event_order_;
  int lead_id_column_ = -1;
  int event_id_column_ = -1;
  int occurred_at_column_ = -1;
};

// Scores in columns, one entry per lead.
struct ScoreColumns {
  std::vector<double> fit;
  std::vector<double> engagement;
  std::vector<double> total;
  std::vector<int32_t> persona;  // index in the Playbook, -1 for none
  std::vector<int32_t> grade;    // index in grade_bands, -1 for none
  std::vector<int32_t> stage;    // v1::LifecycleStage
  std::vector<int32_t> priority;  // v1::Priority
  std::vector<int32_t> disqualification_reason;
  std::vector<uint8_t> hand_raiser;
  std::vector<int32_t> events_counted;
  std::vector<int32_t> duplicate_events;
  // With contributions: lead r's rules that fired are
  // contributions[contribution_begin[r] .. contribution_begin[r + 1]).
  std::vector<int64_t> contribution_begin;
  std::vector<RuleContribution> contributions;
  // With sentences: one per contribution, as in ScoreResult.explanation.
  std::vector<std::string> sentences;
  // With routing: the team and owner of each MQL, as codes into the
  // dictionaries (-1: not routed, or waiting in the team's queue).
  std::vector<int32_t> team;
  std::vector<int32_t> owner;
  std::vector<std::string> teams;
  std::vector<std::string> owners;
};

struct ScoreTableOptions {
  absl::Time now;
  int threads = 0;  // <= 0: DefaultThreadCount()
  bool contributions = false;
  bool sentences = false;  // implies contributions
  // When set, MQLs are routed with the Playbook's routing, one after the
  // other in table order from `routing_state` (empty: no account owners,
  // rotations at their start), as if they all arrived at `now`.
  std::shared_ptr<const LeadEngine> engine;
  v1::RoutingState routing_state;
};

// Scores every lead of `table`. A lead the core refuses fails the whole call
// with INVALID_ARGUMENT naming its row, id and field (and the events row for
// an event field); the problem is attached with path "leads[row].<field>".
absl::Status ScoreTable(std::shared_ptr<const CompiledPlaybook> playbook,
                        const LeadTable& table, const ScoreTableOptions& options,
                        ScoreColumns* out);

// Leads turned into columns: the inverse of LeadTable, for synthetic leads
// and lead files read into data tools. Text is dictionary-encoded.
class LeadColumnsWriter {
 public:
  // Dictionary-encoded (codes into dictionary, -1 missing), or for columns
  // of mostly distinct values (ids, e-mails) one value per row in `values`
  // ("" missing) with `codes` empty.
  struct TextColumn {
    std::vector<int32_t> codes;
    std::vector<std::string> dictionary;
    std::vector<std::string> values;
  };
  // One attribute or property: each row holds a number, a bool, a text or
  // nothing (kind 0); nested values are written as their JSON text.
  struct ValueColumn {
    enum Kind : uint8_t { kMissing, kNumber, kBool, kText };
    std::vector<uint8_t> kinds;
    std::vector<double> numbers;
    std::vector<uint8_t> bools;
    TextColumn text;
  };
  struct Table {
    int64_t rows = 0;
    std::vector<std::pair<std::string, TextColumn>> text;
    std::vector<std::pair<std::string, std::vector<int64_t>>> ints;
    std::vector<std::pair<std::string, std::vector<double>>> doubles;
    std::vector<std::pair<std::string, std::vector<uint8_t>>> bools;
    // Nanoseconds since the epoch; `present` 0 where unset or outside what
    // 64-bit nanoseconds hold (years 1678 to 2261).
    struct Times {
      std::vector<int64_t> nanos;
      std::vector<uint8_t> present;
    };
    std::vector<std::pair<std::string, Times>> times;
    std::vector<std::pair<std::string, ValueColumn>> values;
  };

  LeadColumnsWriter();
  ~LeadColumnsWriter();
  void Add(const v1::Lead& lead);

  // Columns named as LeadTable reads them. Seniority and event type are
  // written as their short names ("vp", "page_view").
  Table TakeLeads();
  Table TakeEvents();

 private:
  class Builder;
  std::unique_ptr<Builder> leads_;
  std::unique_ptr<Builder> events_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_LEAD_TABLE_H_
