// Leads read from their protobuf encoding, as the ScoreLeads stream receives
// them, straight into the flat form (core/base/flat_lead.h): events and
// their properties laid out with no v1::Event, Struct or Map, strings as
// views into the encoding. protobuf's parser stays the reference: what this
// does not read exactly as it does is left to it.
#ifndef SMARKETING_CORE_LEADS_LEAD_WIRE_H_
#define SMARKETING_CORE_LEADS_LEAD_WIRE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/base/flat_lead.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// Splits an encoded message into the values of its length-delimited field
// `number` (views into `message`, in order) and the encoding of all its
// other fields (`rest`), which parses as the message without that field.
// INVALID_ARGUMENT when `message` is not a well-formed encoding.
absl::Status SplitWireField(absl::string_view message, int number,
                            std::vector<absl::string_view>* values,
                            std::string* rest);

class FlatLeadWireReader {
 public:
  // Reads the encoded v1::Lead `bytes` into `fields` (the lead's own
  // fields, without events) and `flat` (its events, laid out over
  // `fields`, viewing `bytes`, which must outlive it). True when the lead
  // was read so and is valid (ValidateLead accepts it). False otherwise,
  // leaving both unspecified: the bytes are not a Lead, validation would
  // refuse it, or it holds what only protobuf's parser reads as it should
  // (a list among properties, a field or key given twice, unknown fields
  // in a property). The caller then parses the lead with protobuf and
  // validates it, which names what is wrong.
  bool Read(absl::string_view bytes, v1::Lead* fields, FlatLead* flat);

 private:
  std::string rest_;  // the encoding of the lead's own fields
  std::vector<absl::string_view> events_;
  std::vector<FlatValue> pending_;  // members of the structs being read
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_LEADS_LEAD_WIRE_H_
