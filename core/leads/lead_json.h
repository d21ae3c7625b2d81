// A fast reader of leads written in the protobuf JSON mapping. Reading lead
// files is what limits `smarketing score` and `smarketing diff` on millions
// of leads: protobuf's JSON parser goes through several generic layers and
// reads a few tens of megabytes per second, while a lead file of a million
// leads weighs gigabytes.
//
// The fast reader handles the shape lead files have in practice (fields by
// proto or JSON name, enums by name, int64 as numbers or decimal strings,
// RFC 3339 UTC timestamps, any Struct) and hands everything else (null,
// enums by number, time zone offsets, huge numbers, duplicate keys,
// anything malformed) to protobuf's parser. So the result, and every error
// message, is always exactly what protobuf's parser gives.
#ifndef SMARKETING_CORE_LEADS_LEAD_JSON_H_
#define SMARKETING_CORE_LEADS_LEAD_JSON_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/base/flat_lead.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// Parses `json` (one JSON object) into `lead`, cleared first. true when
// parsed; false when the text needs protobuf's parser, and `lead` is then
// unspecified.
bool ParseLeadJsonFast(absl::string_view json, v1::Lead* lead);

// ParseLeadJsonFast, falling back to ParseLeadJson (lead_io.h): the same
// result and errors as ParseLeadJson, much faster on typical leads.
absl::Status ParseLeadJsonQuickly(absl::string_view json, v1::Lead* lead);

// Reads a lead for scoring: its own fields into a v1::Lead, its events
// straight into a FlatLead, without a Struct per event. Keeps its buffers
// between leads; one per thread.
class FlatLeadJsonReader {
 public:
  // true when `json` was read on the fast path and the lead passes every
  // check of ValidateLead: `flat` (over `fields`) is then ready for
  // Scorer::ScoreFlat, its strings pointing into `json` and into this
  // reader until the next call. false otherwise, with `fields` and `flat`
  // unspecified: the caller reads the lead with ParseLeadJsonQuickly, and
  // validation names what is wrong.
  bool Read(absl::string_view json, v1::Lead* fields, FlatLead* flat);
  // Appends to `flat` the events of `json`, a JSON array of events and
  // nothing else, as Read does: false when the array needs protobuf's
  // parser. With `doubled_quotes` every quote of the JSON is written twice,
  // as in a quoted CSV cell, read where it lies.
  bool ReadEvents(absl::string_view json, bool doubled_quotes, FlatLead* flat);

 private:
  std::string text_;                // decoded strings
  std::vector<FlatValue> pending_;  // members of the structs still open
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_LEADS_LEAD_JSON_H_
