#include "core/leads/lead_wire.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/base/utf8.h"
#include "core/scoring/lead_validation.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "smarketing/v1/event.pb.h"

namespace smarketing {
namespace {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLength = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// protobuf's recursion limit: messages and groups nested in a parsed
// message, its own fields at depth 0.
constexpr int kMaxDepth = 100;

// Fields of the messages read here, by their generated numbers.
namespace pb = google::protobuf;
constexpr uint32_t kLeadEvents = v1::Lead::kEventsFieldNumber;
// A map's entries are messages of two fields, the key's and the value's.
constexpr uint32_t kEntryKey = 1;
constexpr uint32_t kEntryValue = 2;

// The protobuf wire format read forward over a message's bytes; each
// method is false at malformed bytes.
class WireReader {
 public:
  explicit WireReader(absl::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())),
        end_(p_ + bytes.size()) {}

  bool done() const { return p_ == end_; }
  const char* at() const { return reinterpret_cast<const char*>(p_); }

  bool Varint(uint64_t* value) {
    // Most numbers here take one or two bytes.
    if (p_ != end_ && *p_ < 0x80) {
      *value = *p_++;
      return true;
    }
    if (end_ - p_ >= 2 && p_[1] < 0x80) {
      *value = (p_[0] & 0x7F) | uint64_t{p_[1]} << 7;
      p_ += 2;
      return true;
    }
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t byte = *p_++;
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) {
        *value = v;
        return true;
      }
    }
    return false;
  }

  // As protobuf reads tags: at most five bytes, bits past 32 dropped.
  bool Tag(uint32_t* number, uint32_t* type) {
    uint32_t tag = 0;
    for (int i = 0; i < 5; ++i) {
      if (p_ == end_) return false;
      const uint8_t byte = *p_++;
      tag |= static_cast<uint32_t>(byte & 0x7F) << (7 * i);
      if (byte < 0x80) {
        *number = tag >> 3;
        *type = tag & 7;
        return *number != 0;
      }
    }
    return false;
  }

  // As protobuf reads lengths: at most five bytes, below 2^31.
  bool Length(absl::string_view* out) {
    uint64_t size = 0;
    for (int i = 0;; ++i) {
      if (i == 5 || p_ == end_) return false;
      const uint8_t byte = *p_++;
      if (i == 4 && byte >= 8) return false;
      size |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
      if (byte < 0x80) break;
    }
    if (size > static_cast<uint64_t>(end_ - p_)) return false;
    *out = absl::string_view(at(), size);
    p_ += size;
    return true;
  }

  bool Fixed64(uint64_t* out) {
    if (end_ - p_ < 8) return false;
    std::memcpy(out, p_, 8);  // little-endian, as x86-64 and arm64 are
    p_ += 8;
    return true;
  }

  // Past the value of a field of `type`, whose tag was just read, in a
  // message at `depth` (protobuf counts a group's nesting with them).
  bool Skip(uint32_t number, uint32_t type, int depth) {
    switch (type) {
      case kVarint: {
        uint64_t v;
        return Varint(&v);
      }
      case kFixed64:
        if (end_ - p_ < 8) return false;
        p_ += 8;
        return true;
      case kLength: {
        absl::string_view v;
        return Length(&v);
      }
      case kFixed32:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      case kStartGroup: {
        if (depth >= kMaxDepth) return false;
        for (;;) {
          uint32_t inner_number, inner_type;
          if (!Tag(&inner_number, &inner_type)) return false;
          if (inner_type == kEndGroup) return inner_number == number;
          if (!Skip(inner_number, inner_type, depth + 1)) return false;
        }
      }
      default:
        return false;
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// One encoded lead's events, read into a FlatLead as FlatLeadJsonReader
// reads them from JSON: the same limits, and the same cases left to the
// slow path.
class EventReader {
 public:
  EventReader(FlatLead* flat, std::vector<FlatValue>* pending)
      : values_(flat->mutable_values()), pending_(*pending) {}

  bool Event(absl::string_view bytes, FlatEvent* event) {
    *event = FlatEvent();
    WireReader in(bytes);
    bool timed = false;
    bool has_properties = false;
    while (!in.done()) {
      uint32_t number, type;
      if (!in.Tag(&number, &type)) return false;
      // A field given twice (protobuf keeps the last, or merges a message)
      // or with another wire type (protobuf keeps it as unknown) is left to
      // the slow path.
      switch (number) {
        case v1::Event::kIdFieldNumber:
          if (type != kLength || !event->id.empty() || !in.Length(&event->id) ||
              !IsUtf8(event->id)) {
            return false;
          }
          break;
        case v1::Event::kTypeFieldNumber: {
          uint64_t v;
          if (type != kVarint || event->type != v1::EVENT_TYPE_UNSPECIFIED ||
              !in.Varint(&v)) {
            return false;
          }
          // An enum is an int32 on the wire, sign-extended to ten bytes.
          event->type = static_cast<v1::EventType>(static_cast<int32_t>(v));
          break;
        }
        case v1::Event::kOccurredAtFieldNumber: {
          absl::string_view time;
          if (type != kLength || timed || !in.Length(&time) ||
              !Timestamp(time, &event->seconds, &event->nanos)) {
            return false;
          }
          timed = true;
          break;
        }
        case v1::Event::kPropertiesFieldNumber: {
          absl::string_view properties;
          if (type != kLength || has_properties || !in.Length(&properties) ||
              !Struct(properties, 1, &event->first_property,
                      &event->property_count)) {
            return false;
          }
          has_properties = true;
          break;
        }
        case v1::Event::kCustomTypeFieldNumber:
          if (type != kLength || !event->custom_type.empty() ||
              !in.Length(&event->custom_type) || !IsUtf8(event->custom_type)) {
            return false;
          }
          break;
        default:
          // An event is a message within the lead.
          if (!in.Skip(number, type, /*depth=*/1)) return false;
      }
    }
    return timed && EventFieldsAreValid(*event);
  }

 private:
  static bool Timestamp(absl::string_view bytes, int64_t* seconds,
                        int32_t* nanos) {
    WireReader in(bytes);
    bool has_seconds = false;
    bool has_nanos = false;
    while (!in.done()) {
      uint32_t number, type;
      if (!in.Tag(&number, &type)) return false;
      uint64_t v;
      if (number == pb::Timestamp::kSecondsFieldNumber && type == kVarint &&
          !has_seconds) {
        if (!in.Varint(&v)) return false;
        *seconds = static_cast<int64_t>(v);
        has_seconds = true;
      } else if (number == pb::Timestamp::kNanosFieldNumber &&
                 type == kVarint && !has_nanos) {
        if (!in.Varint(&v)) return false;
        *nanos = static_cast<int32_t>(v);
        has_nanos = true;
      } else {
        return false;
      }
    }
    return true;
  }

  // The members of an encoded Struct at `depth` (1 for an event's
  // properties), laid out in the lead's values as FlatValue describes: each
  // struct's members contiguous, a nested struct's placed when it closes,
  // before those of the struct that holds it.
  bool Struct(absl::string_view bytes, int depth, uint32_t* first,
              uint32_t* count) {
    if (depth > kMaxValueDepth) return false;
    const size_t mark = pending_.size();
    WireReader in(bytes);
    while (!in.done()) {
      uint32_t number, type;
      absl::string_view entry;
      if (!in.Tag(&number, &type) || number != pb::Struct::kFieldsFieldNumber ||
          type != kLength || !in.Length(&entry)) {
        return false;
      }
      FlatValue value;
      if (!Entry(entry, depth, &value) ||
          !MayAddMember(absl::MakeConstSpan(pending_).subspan(mark),
                        value.key)) {
        return false;
      }
      pending_.push_back(value);
    }
    *first = static_cast<uint32_t>(values_.size());
    *count = static_cast<uint32_t>(pending_.size() - mark);
    values_.insert(values_.end(), pending_.begin() + mark, pending_.end());
    pending_.resize(mark);
    return true;
  }

  // A map entry of a Struct: its key, then its Value.
  bool Entry(absl::string_view bytes, int depth, FlatValue* value) {
    WireReader in(bytes);
    absl::string_view key;
    absl::string_view encoded;
    bool has_key = false;
    bool has_value = false;
    while (!in.done()) {
      uint32_t number, type;
      if (!in.Tag(&number, &type) || type != kLength) return false;
      if (number == kEntryKey && !has_key) {
        if (!in.Length(&key)) return false;
        has_key = true;
      } else if (number == kEntryValue && !has_value) {
        if (!in.Length(&encoded)) return false;
        has_value = true;
      } else {
        return false;
      }
    }
    if (!has_value || key.size() > kMaxIdBytes || !IsUtf8(key)) return false;
    value->key = key;
    return Value(encoded, depth + 1, value);
  }

  // A Value of exactly one kind. Lists, null's other numbers, and numbers
  // validation refuses go to the slow path.
  bool Value(absl::string_view bytes, int depth, FlatValue* value) {
    WireReader in(bytes);
    uint32_t number, type;
    if (!in.Tag(&number, &type)) return false;
    uint64_t v;
    switch (number) {
      case pb::Value::kNullValueFieldNumber:
        if (type != kVarint || !in.Varint(&v) || v != 0) return false;
        value->kind = FlatValue::kNull;
        break;
      case pb::Value::kNumberValueFieldNumber:
        if (type != kFixed64 || !in.Fixed64(&v)) return false;
        value->kind = FlatValue::kNumber;
        std::memcpy(&value->number, &v, sizeof(v));
        if (!std::isfinite(value->number)) return false;
        break;
      case pb::Value::kStringValueFieldNumber:
        if (type != kLength || !in.Length(&value->text) ||
            value->text.size() > kMaxTextBytes || !IsUtf8(value->text)) {
          return false;
        }
        value->kind = FlatValue::kString;
        break;
      case pb::Value::kBoolValueFieldNumber:
        if (type != kVarint || !in.Varint(&v)) return false;
        value->kind = FlatValue::kBool;
        value->boolean = v != 0;
        break;
      case pb::Value::kStructValueFieldNumber: {
        absl::string_view inner;
        if (type != kLength || !in.Length(&inner)) return false;
        value->kind = FlatValue::kStruct;
        if (!Struct(inner, depth, &value->first, &value->count)) return false;
        break;
      }
      default:
        return false;
    }
    return in.done();
  }

  std::vector<FlatValue>& values_;
  std::vector<FlatValue>& pending_;
};

}  // namespace

absl::Status SplitWireField(absl::string_view message, int number,
                            std::vector<absl::string_view>* values,
                            std::string* rest) {
  values->clear();
  rest->clear();
  WireReader in(message);
  // The other fields are copied a run at a time: writers put a message's
  // fields in order, so a repeated field splits the rest in two at most.
  const char* run = in.at();
  while (!in.done()) {
    const char* start = in.at();
    uint32_t field, type;
    if (!in.Tag(&field, &type)) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed field tag at byte ", start - message.data()));
    }
    if (field == static_cast<uint32_t>(number) && type == kLength) {
      absl::string_view value;
      if (!in.Length(&value)) {
        return absl::InvalidArgumentError(
            absl::StrCat("field ", number, " at byte ", start - message.data(),
                         " runs past the end of the message"));
      }
      values->push_back(value);
      rest->append(run, start - run);
      run = in.at();
      continue;
    }
    if (!in.Skip(field, type, /*depth=*/0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed field ", field, " at byte ", start - message.data()));
    }
  }
  rest->append(run, in.at() - run);
  return absl::OkStatus();
}

bool FlatLeadWireReader::Read(absl::string_view bytes, v1::Lead* fields,
                              FlatLead* flat) {
  if (!SplitWireField(bytes, kLeadEvents, &events_, &rest_).ok() ||
      events_.size() > static_cast<size_t>(kMaxEventsPerLead) ||
      !fields->ParseFromString(rest_)) {
    return false;
  }
  flat->Reset(fields);
  pending_.clear();
  std::vector<FlatEvent>& events = flat->mutable_events();
  events.resize(events_.size());
  EventReader reader(flat, &pending_);
  for (size_t i = 0; i < events_.size(); ++i) {
    if (!reader.Event(events_[i], &events[i])) return false;
  }
  return ValidateLead(*fields).ok();
}

}  // namespace smarketing
