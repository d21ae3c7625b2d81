// Leads turned into columns (the inverse of LeadTable), for synthetic leads
// and lead files read into data tools.
#ifndef SMARKETING_CORE_BATCH_LEAD_COLUMNS_WRITER_H_
#define SMARKETING_CORE_BATCH_LEAD_COLUMNS_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "smarketing/v1/lead.pb.h"

namespace smarketing {

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
  // One attribute or property: each row holds a number, a bool, a text, a
  // list or an object (kJson: its JSON text, in `text`) or nothing (kind
  // 0); the kinds are Column::ValueKind's (lead_table.h).
  struct ValueColumn {
    enum Kind : uint8_t { kMissing, kNumber, kBool, kText, kJson };
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
    // Ticks since the epoch: nanoseconds, or microseconds for a column
    // holding a time outside what 64-bit nanoseconds hold (years 1678 to
    // 2261), so that every valid time (years 1 to 9999) is kept; `present`
    // 0 where unset.
    struct Times {
      std::vector<int64_t> ticks;
      std::vector<uint8_t> present;
      int64_t ticks_per_second = 1000000000;
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

#endif  // SMARKETING_CORE_BATCH_LEAD_COLUMNS_WRITER_H_
