#include "core/base/flat_lead.h"

namespace smarketing {

void FlatLead::Assign(const v1::Lead& lead) {
  fields_ = &lead;
  events_.resize(lead.events_size());
  values_.clear();
  for (int i = 0; i < lead.events_size(); ++i) {
    const v1::Event& event = lead.events(i);
    FlatEvent& out = events_[i];
    out = FlatEvent();
    out.id = event.id();
    out.custom_type = event.custom_type();
    out.type = event.type();
    out.seconds = event.occurred_at().seconds();
    out.nanos = event.occurred_at().nanos();
    if (event.has_properties()) out.properties = &event.properties();
  }
}

const FlatValue* FlatLead::Find(const FlatEvent& event,
                                const std::vector<std::string>& path) const {
  uint32_t first = event.first_property;
  uint32_t count = event.property_count;
  const FlatValue* found = nullptr;
  for (const std::string& key : path) {
    found = nullptr;
    for (uint32_t i = first; i < first + count; ++i) {
      if (values_[i].key == key) {
        found = &values_[i];
        break;
      }
    }
    if (found == nullptr) return nullptr;
    first = found->first;
    count = found->kind == FlatValue::kStruct ? found->count : 0;
  }
  return found;
}

}  // namespace smarketing
