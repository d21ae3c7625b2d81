#include "core/base/yaml_message.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "core/base/enum_label.h"
#include "core/base/utf8.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace smarketing {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Deeper documents are refused rather than risking the stack; no real
// Playbook nests conditions anywhere near this.
constexpr int kMaxDepth = 64;

// Aliases let a short document stand for a huge one ("billion laughs"):
// the values a document holds once its aliases are expanded are bounded by
// the larger of this and its size in bytes. Without aliases a document
// holds fewer values than bytes, so the bound only ever stops aliases, and
// the work of reading a document stays proportional to its size.
constexpr uint64_t kMinExpandedValuesLimit = 1'000'000;

// Where the first byte of `text` that YAML does not allow is, and what it
// is: invalid UTF-8, or a control character other than tab and line breaks
// (yaml-cpp silently turns a NUL into other bytes).
bool FindDisallowedByte(absl::string_view text, SourcePosition* position,
                        std::string* what) {
  size_t bad = FindInvalidUtf8(text);
  for (size_t i = 0; i < std::min(bad, text.size()); ++i) {
    const unsigned char c = text[i];
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      bad = i;
      *what = absl::StrCat("a control character (0x",
                           absl::Hex(c, absl::kZeroPad2), ")");
      break;
    }
  }
  if (bad == absl::string_view::npos) return false;
  if (what->empty()) {
    *what = absl::StrCat(
        "a byte that is not valid UTF-8 (0x",
        absl::Hex(static_cast<unsigned char>(text[bad]), absl::kZeroPad2), ")");
  }
  const absl::string_view before = text.substr(0, bad);
  const size_t line_start = before.rfind('\n');
  position->line = 1 + std::count(before.begin(), before.end(), '\n');
  position->column = 1 + static_cast<int>(line_start == absl::string_view::npos
                                              ? bad
                                              : bad - line_start - 1);
  return true;
}

// Reads the document's events before it is loaded, to refuse what the
// node tree would turn into endless or exponential work: an alias inside
// the value its anchor names (a cycle), and aliases that expand the
// document beyond `limit` values.
class AliasChecker : public YAML::EventHandler {
 public:
  AliasChecker(uint64_t limit, ProblemList* problems)
      : limit_(limit), problems_(problems) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    SetSize(anchor, 1);
    Add(1, mark);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&,
                YAML::anchor_t anchor, const std::string&) override {
    SetSize(anchor, 1);
    Add(1, mark);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (failed_) return;
    for (const Collection& open : stack_) {
      if (open.anchor == anchor) {
        Fail(mark,
             "an alias inside the value its anchor names: the value "
             "would contain itself");
        return;
      }
    }
    Add(anchor < sizes_.size() ? sizes_[anchor] : 1, mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&,
                       YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(anchor, mark);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&,
                  YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    Open(anchor, mark);
  }
  void OnMapEnd() override { Close(); }

 private:
  // A mapping or list being read, and the values it holds so far once
  // expanded, itself included.
  struct Collection {
    YAML::anchor_t anchor;
    uint64_t values;
  };

  uint64_t Sum(uint64_t a, uint64_t b) const {
    return std::min(a + b, limit_ + 1);  // Never overflows.
  }

  void Fail(const YAML::Mark& mark, absl::string_view message) {
    failed_ = true;
    problems_->AddAt("", {mark.line + 1, mark.column + 1}, message);
  }

  void Add(uint64_t values, const YAML::Mark& mark) {
    if (failed_) return;
    total_ = Sum(total_, values);
    if (!stack_.empty())
      stack_.back().values = Sum(stack_.back().values, values);
    if (total_ > limit_) {
      Fail(mark, absl::StrCat("aliases expand the document to more than ",
                              limit_, " values"));
    }
  }

  void SetSize(YAML::anchor_t anchor, uint64_t values) {
    if (anchor == YAML::NullAnchor) return;
    if (sizes_.size() <= anchor) sizes_.resize(anchor + 1, 1);
    sizes_[anchor] = values;
  }

  void Open(YAML::anchor_t anchor, const YAML::Mark& mark) {
    Add(1, mark);
    stack_.push_back({anchor, 1});
  }

  void Close() {
    const Collection done = stack_.back();
    stack_.pop_back();
    SetSize(done.anchor, done.values);
    // Its values already count in total_; the enclosing collection holds
    // them too.
    if (!stack_.empty()) {
      stack_.back().values = Sum(stack_.back().values, done.values - 1);
    }
  }

  const uint64_t limit_;
  ProblemList* problems_;
  bool failed_ = false;
  uint64_t total_ = 0;
  std::vector<Collection> stack_;
  // Expanded values of each anchored value, by anchor number.
  std::vector<uint64_t> sizes_;
};

SourcePosition PositionOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    default: {
      std::string text = node.Scalar();
      if (text.size() > 40) text = absl::StrCat(text.substr(0, 40), "...");
      if (FindInvalidUtf8(text) != absl::string_view::npos) {
        text = absl::CHexEscape(text);
      }
      return absl::StrCat("\"", text, "\"");
    }
  }
}

// Quoted scalars carry the "!" tag in yaml-cpp; plain ones "?".
bool IsQuoted(const YAML::Node& node) { return node.Tag() == "!"; }

class YamlReader {
 public:
  YamlReader(ProblemList* problems, SourceMap* positions)
      : problems_(problems), positions_(positions) {}

  void ReadMessage(const YAML::Node& node, Message* message,
                   const std::string& path, int depth) {
    Record(path, node);
    if (depth > kMaxDepth) {
      Fail(path, node,
           absl::StrCat("nested more than ", kMaxDepth, " levels deep"));
      return;
    }
    const Descriptor* type = message->GetDescriptor();
    if (ReadWellKnown(node, message, path, depth)) return;
    if (!node.IsMap()) {
      Fail(path, node,
           absl::StrCat("expected a mapping (", type->name(), "), found ",
                        Describe(node)));
      return;
    }
    absl::flat_hash_set<const FieldDescriptor*> seen;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) {
        Fail(path, key, "keys must be plain names");
        continue;
      }
      if (!IsUtf8(key, path)) continue;
      const std::string& name = key.Scalar();
      const FieldDescriptor* field = type->FindFieldByName(name);
      if (field == nullptr) field = type->FindFieldByCamelcaseName(name);
      const std::string field_path = Join(path, name);
      if (field == nullptr) {
        Fail(field_path, key,
             absl::StrCat("unknown field \"", name, "\" in ", type->name(),
                          "; known fields: ", FieldNames(type)));
        continue;
      }
      if (!seen.insert(field).second) {
        Fail(field_path, key, "given more than once");
        continue;
      }
      if (const auto* oneof = field->containing_oneof();
          oneof != nullptr && !oneof->is_synthetic() &&
          message->GetReflection()->HasOneof(*message, oneof)) {
        Fail(field_path, key,
             absl::StrCat("only one of \"", oneof->name(), "\" may be set"));
        continue;
      }
      ReadField(entry.second, message, field, Join(path, field->name()), depth);
    }
  }

 private:
  static std::string Join(const std::string& path, absl::string_view name) {
    return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
  }

  static std::string FieldNames(const Descriptor* type) {
    std::string out;
    for (int i = 0; i < type->field_count(); ++i) {
      absl::StrAppend(&out, i ? ", " : "", type->field(i)->name());
    }
    return out;
  }

  // Whether a scalar's text is valid UTF-8, as protobuf strings must be;
  // adds the problem when not. The document itself was checked, but
  // yaml-cpp decodes the escapes \N and \_ to single Latin-1 bytes.
  bool IsUtf8(const YAML::Node& node, const std::string& path) {
    const std::string& text = node.Scalar();
    const size_t bad = FindInvalidUtf8(text);
    if (bad == absl::string_view::npos) return true;
    Fail(path, node,
         absl::StrCat(
             "not valid UTF-8 (byte 0x",
             absl::Hex(static_cast<unsigned char>(text[bad]), absl::kZeroPad2),
             " at offset ", bad,
             "); write the character itself rather than the "
             "escapes \\N or \\_"));
    return false;
  }

  void Record(const std::string& path, const YAML::Node& node) {
    if (positions_ != nullptr) positions_->emplace(path, PositionOf(node));
  }

  void Fail(const std::string& path, const YAML::Node& node,
            absl::string_view message) {
    problems_->AddAt(path, PositionOf(node), message);
  }

  void ReadField(const YAML::Node& node, Message* message,
                 const FieldDescriptor* field, const std::string& path,
                 int depth) {
    Record(path, node);
    if (node.IsNull()) return;  // "key:" or "key: ~" leaves the field unset.
    if (field->is_map()) {
      ReadMap(node, message, field, path, depth);
    } else if (field->is_repeated()) {
      if (!node.IsSequence()) {
        Fail(path, node,
             absl::StrCat("expected a list, found ", Describe(node)));
        return;
      }
      for (size_t i = 0; i < node.size(); ++i) {
        const std::string item_path = absl::StrCat(path, "[", i, "]");
        ReadValue(node[i], message, field, item_path, depth);
      }
    } else {
      ReadValue(node, message, field, path, depth);
    }
  }

  void ReadMap(const YAML::Node& node, Message* message,
               const FieldDescriptor* field, const std::string& path,
               int depth) {
    if (!node.IsMap()) {
      Fail(path, node,
           absl::StrCat("expected a mapping, found ", Describe(node)));
      return;
    }
    const FieldDescriptor* key_field = field->message_type()->map_key();
    const FieldDescriptor* value_field = field->message_type()->map_value();
    for (const auto& entry : node) {
      const std::string entry_path =
          absl::StrCat(path, "[\"", entry.first.Scalar(), "\"]");
      Message* item = message->GetReflection()->AddMessage(message, field);
      ReadValue(entry.first, item, key_field, entry_path, depth);
      ReadValue(entry.second, item, value_field, entry_path, depth);
    }
  }

  // Reads one value of `field` (a repeated field gets it appended).
  void ReadValue(const YAML::Node& node, Message* message,
                 const FieldDescriptor* field, const std::string& path,
                 int depth) {
    Record(path, node);
    const Reflection* r = message->GetReflection();
    const bool repeated = field->is_repeated();
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Message* child = repeated ? r->AddMessage(message, field)
                                : r->MutableMessage(message, field);
      ReadMessage(node, child, path, depth + 1);
      return;
    }
    if (!node.IsScalar()) {
      Fail(path, node,
           absl::StrCat("expected a single value, found ", Describe(node)));
      return;
    }
    if (!IsUtf8(node, path)) return;
    const std::string& text = node.Scalar();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string value = text;
        if (field->type() == FieldDescriptor::TYPE_BYTES &&
            !absl::Base64Unescape(text, &value)) {
          Fail(path, node, "expected base64 bytes");
          return;
        }
        repeated ? r->AddString(message, field, std::move(value))
                 : r->SetString(message, field, std::move(value));
        return;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool value = false;
        if (!ParseBool(text, &value)) {
          Fail(path, node,
               absl::StrCat("expected true or false, found ", Describe(node)));
          return;
        }
        repeated ? r->AddBool(message, field, value)
                 : r->SetBool(message, field, value);
        return;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double value = 0;
        if (!absl::SimpleAtod(text, &value) || !std::isfinite(value)) {
          Fail(
              path, node,
              absl::StrCat("expected a finite number, found ", Describe(node)));
          return;
        }
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
          repeated ? r->AddFloat(message, field, static_cast<float>(value))
                   : r->SetFloat(message, field, static_cast<float>(value));
        } else {
          repeated ? r->AddDouble(message, field, value)
                   : r->SetDouble(message, field, value);
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        ReadInteger(node, message, field, path);
        return;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const EnumValueDescriptor* value =
            FindEnumValue(field->enum_type(), text);
        if (value == nullptr) {
          Fail(path, node,
               absl::StrCat("unknown value ", Describe(node), " for ",
                            field->enum_type()->name(), "; expected one of: ",
                            EnumLabelList(field->enum_type())));
          return;
        }
        repeated ? r->AddEnum(message, field, value)
                 : r->SetEnum(message, field, value);
        return;
      }
      default:
        Fail(path, node, "unsupported field type");
    }
  }

  void ReadInteger(const YAML::Node& node, Message* message,
                   const FieldDescriptor* field, const std::string& path) {
    const Reflection* r = message->GetReflection();
    const bool repeated = field->is_repeated();
    const std::string& text = node.Scalar();
    auto fail = [&] {
      Fail(path, node,
           absl::StrCat("expected a whole number in range, found ",
                        Describe(node)));
    };
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        int32_t v;
        if (!absl::SimpleAtoi(text, &v)) return fail();
        repeated ? r->AddInt32(message, field, v)
                 : r->SetInt32(message, field, v);
        return;
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v;
        if (!absl::SimpleAtoi(text, &v)) return fail();
        repeated ? r->AddInt64(message, field, v)
                 : r->SetInt64(message, field, v);
        return;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t v;
        if (!absl::SimpleAtoi(text, &v)) return fail();
        repeated ? r->AddUInt32(message, field, v)
                 : r->SetUInt32(message, field, v);
        return;
      }
      default: {
        uint64_t v;
        if (!absl::SimpleAtoi(text, &v)) return fail();
        repeated ? r->AddUInt64(message, field, v)
                 : r->SetUInt64(message, field, v);
        return;
      }
    }
  }

  static bool ParseBool(absl::string_view text, bool* value) {
    if (absl::EqualsIgnoreCase(text, "true")) {
      *value = true;
      return true;
    }
    if (absl::EqualsIgnoreCase(text, "false")) {
      *value = false;
      return true;
    }
    return false;
  }

  // Duration, Timestamp, Value, ListValue and Struct read as their JSON
  // forms. Returns false for other types.
  bool ReadWellKnown(const YAML::Node& node, Message* message,
                     const std::string& path, int depth) {
    const std::string& name = message->GetDescriptor()->full_name();
    if (name == "google.protobuf.Duration") {
      absl::Duration d;
      if (!node.IsScalar() || !ParseHumanDuration(node.Scalar(), &d)) {
        Fail(path, node,
             absl::StrCat("expected a duration such as \"90s\", \"2h30m\" or "
                          "\"7d\", found ",
                          Describe(node)));
        return true;
      }
      auto* out = static_cast<google::protobuf::Duration*>(message);
      const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
      out->set_seconds(seconds);
      out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
      return true;
    }
    if (name == "google.protobuf.Timestamp") {
      absl::Time t;
      std::string error;
      if (!node.IsScalar() ||
          !absl::ParseTime(absl::RFC3339_full, node.Scalar(), &t, &error)) {
        Fail(path, node,
             absl::StrCat("expected an RFC 3339 time such as "
                          "\"2026-11-23T09:30:00Z\", found ",
                          Describe(node)));
        return true;
      }
      auto* out = static_cast<google::protobuf::Timestamp*>(message);
      const int64_t seconds = absl::ToUnixSeconds(t);
      out->set_seconds(seconds);
      out->set_nanos(static_cast<int32_t>(
          absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
      return true;
    }
    if (name == "google.protobuf.Value") {
      ReadProtoValue(node, static_cast<google::protobuf::Value*>(message), path,
                     depth);
      return true;
    }
    if (name == "google.protobuf.ListValue") {
      if (!node.IsSequence()) {
        Fail(path, node,
             absl::StrCat("expected a list, found ", Describe(node)));
        return true;
      }
      auto* list = static_cast<google::protobuf::ListValue*>(message);
      for (size_t i = 0; i < node.size(); ++i) {
        ReadProtoValue(node[i], list->add_values(),
                       absl::StrCat(path, "[", i, "]"), depth + 1);
      }
      return true;
    }
    if (name == "google.protobuf.Struct") {
      if (!node.IsMap()) {
        Fail(path, node,
             absl::StrCat("expected a mapping, found ", Describe(node)));
        return true;
      }
      auto* fields =
          static_cast<google::protobuf::Struct*>(message)->mutable_fields();
      for (const auto& entry : node) {
        const std::string& key = entry.first.Scalar();
        if (!entry.first.IsScalar()) {
          Fail(path, entry.first, "keys must be text");
          continue;
        }
        if (!IsUtf8(entry.first, path)) continue;
        const std::string child_path = Join(path, key);
        if (fields->count(key) != 0) {
          Fail(child_path, entry.first, "given more than once");
          continue;
        }
        ReadProtoValue(entry.second, &(*fields)[key], child_path, depth + 1);
      }
      return true;
    }
    return false;
  }

  void ReadProtoValue(const YAML::Node& node, google::protobuf::Value* value,
                      const std::string& path, int depth) {
    Record(path, node);
    if (depth > kMaxDepth) {
      Fail(path, node,
           absl::StrCat("nested more than ", kMaxDepth, " levels deep"));
      return;
    }
    if (node.IsNull()) {
      value->set_null_value(google::protobuf::NULL_VALUE);
    } else if (node.IsSequence()) {
      ReadWellKnown(node, value->mutable_list_value(), path, depth);
    } else if (node.IsMap()) {
      ReadWellKnown(node, value->mutable_struct_value(), path, depth);
    } else {
      if (!IsUtf8(node, path)) return;
      const std::string& text = node.Scalar();
      bool b;
      double d;
      if (IsQuoted(node)) {
        value->set_string_value(text);
      } else if (ParseBool(text, &b)) {
        value->set_bool_value(b);
      } else if (absl::SimpleAtod(text, &d) && std::isfinite(d)) {
        value->set_number_value(d);
      } else {
        value->set_string_value(text);
      }
    }
  }

  ProblemList* problems_;
  SourceMap* positions_;
};

// Writes messages with the same mapping YamlReader reads.
class YamlWriter {
 public:
  explicit YamlWriter(YAML::Emitter* out) : out_(*out) {}

  void WriteMessage(const Message& message) {
    if (WriteWellKnown(message)) return;
    const Reflection* r = message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    r->ListFields(message, &fields);
    out_ << YAML::BeginMap;
    for (const FieldDescriptor* field : fields) {
      out_ << YAML::Key << field->name() << YAML::Value;
      if (field->is_map()) {
        out_ << YAML::BeginMap;
        for (int i = 0; i < r->FieldSize(message, field); ++i) {
          const Message& entry = r->GetRepeatedMessage(message, field, i);
          const Descriptor* type = entry.GetDescriptor();
          out_ << YAML::Key;
          WriteScalar(entry, type->map_key(), -1);
          out_ << YAML::Value;
          WriteSingle(entry, type->map_value(), -1);
        }
        out_ << YAML::EndMap;
      } else if (field->is_repeated()) {
        out_ << YAML::BeginSeq;
        for (int i = 0; i < r->FieldSize(message, field); ++i) {
          WriteSingle(message, field, i);
        }
        out_ << YAML::EndSeq;
      } else {
        WriteSingle(message, field, -1);
      }
    }
    out_ << YAML::EndMap;
  }

 private:
  // index -1 for a singular field.
  void WriteSingle(const Message& message, const FieldDescriptor* field,
                   int index) {
    const Reflection* r = message.GetReflection();
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      WriteMessage(index < 0 ? r->GetMessage(message, field)
                             : r->GetRepeatedMessage(message, field, index));
    } else {
      WriteScalar(message, field, index);
    }
  }

  static std::string FormatDouble(double value) {
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
  }

  void WriteScalar(const Message& message, const FieldDescriptor* field,
                   int index) {
    const Reflection* r = message.GetReflection();
    const bool rep = index >= 0;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string value = rep ? r->GetRepeatedString(message, field, index)
                                : r->GetString(message, field);
        if (field->type() == FieldDescriptor::TYPE_BYTES) {
          value = absl::Base64Escape(value);
        }
        out_ << YAML::DoubleQuoted << value;
        return;
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ << ((rep ? r->GetRepeatedBool(message, field, index)
                      : r->GetBool(message, field))
                     ? "true"
                     : "false");
        return;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        out_ << FormatDouble(rep ? r->GetRepeatedDouble(message, field, index)
                                 : r->GetDouble(message, field));
        return;
      case FieldDescriptor::CPPTYPE_FLOAT:
        out_ << FormatDouble(rep ? r->GetRepeatedFloat(message, field, index)
                                 : r->GetFloat(message, field));
        return;
      case FieldDescriptor::CPPTYPE_INT32:
        out_ << (rep ? r->GetRepeatedInt32(message, field, index)
                     : r->GetInt32(message, field));
        return;
      case FieldDescriptor::CPPTYPE_INT64:
        out_ << (rep ? r->GetRepeatedInt64(message, field, index)
                     : r->GetInt64(message, field));
        return;
      case FieldDescriptor::CPPTYPE_UINT32:
        out_ << (rep ? r->GetRepeatedUInt32(message, field, index)
                     : r->GetUInt32(message, field));
        return;
      case FieldDescriptor::CPPTYPE_UINT64:
        out_ << (rep ? r->GetRepeatedUInt64(message, field, index)
                     : r->GetUInt64(message, field));
        return;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int number = rep ? r->GetRepeatedEnumValue(message, field, index)
                               : r->GetEnumValue(message, field);
        const EnumValueDescriptor* value =
            field->enum_type()->FindValueByNumber(number);
        if (value != nullptr) {
          out_ << value->name();
        } else {
          out_ << number;
        }
        return;
      }
      default:
        out_ << YAML::Null;
    }
  }

  bool WriteWellKnown(const Message& message) {
    const std::string& name = message.GetDescriptor()->full_name();
    if (name == "google.protobuf.Duration") {
      const auto& d = static_cast<const google::protobuf::Duration&>(message);
      absl::Duration value =
          absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
      out_ << absl::FormatDuration(value);
      return true;
    }
    if (name == "google.protobuf.Timestamp") {
      const auto& t = static_cast<const google::protobuf::Timestamp&>(message);
      out_ << absl::FormatTime(
          absl::RFC3339_full,
          absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
          absl::UTCTimeZone());
      return true;
    }
    if (name == "google.protobuf.Value") {
      WriteProtoValue(static_cast<const google::protobuf::Value&>(message));
      return true;
    }
    if (name == "google.protobuf.ListValue") {
      out_ << YAML::Flow << YAML::BeginSeq;
      for (const auto& v :
           static_cast<const google::protobuf::ListValue&>(message).values()) {
        WriteProtoValue(v);
      }
      out_ << YAML::EndSeq;
      return true;
    }
    if (name == "google.protobuf.Struct") {
      const auto& fields =
          static_cast<const google::protobuf::Struct&>(message).fields();
      // Map order is unspecified; sort keys so output is stable for review.
      std::vector<std::string> keys;
      for (const auto& [key, unused] : fields) keys.push_back(key);
      std::sort(keys.begin(), keys.end());
      out_ << YAML::BeginMap;
      for (const std::string& key : keys) {
        out_ << YAML::Key << key << YAML::Value;
        WriteProtoValue(fields.at(key));
      }
      out_ << YAML::EndMap;
      return true;
    }
    return false;
  }

  void WriteProtoValue(const google::protobuf::Value& value) {
    switch (value.kind_case()) {
      case google::protobuf::Value::kStringValue:
        out_ << YAML::DoubleQuoted << value.string_value();
        break;
      case google::protobuf::Value::kNumberValue:
        out_ << FormatDouble(value.number_value());
        break;
      case google::protobuf::Value::kBoolValue:
        out_ << (value.bool_value() ? "true" : "false");
        break;
      case google::protobuf::Value::kListValue:
        WriteWellKnown(value.list_value());
        break;
      case google::protobuf::Value::kStructValue:
        WriteWellKnown(value.struct_value());
        break;
      default:
        out_ << YAML::Null;
    }
  }

  YAML::Emitter& out_;
};

}  // namespace

bool ParseHumanDuration(absl::string_view text, absl::Duration* out) {
  text = absl::StripAsciiWhitespace(text);
  if (absl::ConsumeSuffix(&text, "d")) {
    double days = 0;
    if (!absl::SimpleAtod(text, &days) || !std::isfinite(days) ||
        std::abs(days) > 1e6) {
      return false;
    }
    *out = absl::Hours(24 * days);
    return true;
  }
  return absl::ParseDuration(text, out) && *out != absl::InfiniteDuration() &&
         *out != -absl::InfiniteDuration();
}

bool ParseYamlMessage(absl::string_view text, Message* message,
                      ProblemList* problems, SourceMap* positions) {
  message->Clear();
  const int before = problems->size();
  SourcePosition bad_position;
  std::string bad_byte;
  if (FindDisallowedByte(text, &bad_position, &bad_byte)) {
    problems->AddAt("", bad_position,
                    absl::StrCat("not valid YAML: ", bad_byte));
    return false;
  }
  YAML::Node root;
  try {
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    AliasChecker checker(
        std::max<uint64_t>(kMinExpandedValuesLimit, text.size()), problems);
    parser.HandleNextDocument(checker);
    if (problems->size() != before) return false;
    stream.clear();
    stream.seekg(0);
    root = YAML::Load(stream);
  } catch (const YAML::Exception& e) {
    problems->AddAt("", {e.mark.line + 1, e.mark.column + 1},
                    absl::StrCat("not valid YAML: ", e.msg));
    return false;
  }
  if (root.IsNull()) {
    problems->AddAt("", {1, 1}, "the document is empty");
    return false;
  }
  YamlReader(problems, positions).ReadMessage(root, message, "", 0);
  return problems->size() == before;
}

std::string MessageToYaml(const Message& message) {
  YAML::Emitter out;
  out.SetIndent(2);
  YamlWriter(&out).WriteMessage(message);
  return std::string(out.c_str()) + "\n";
}

}  // namespace smarketing
