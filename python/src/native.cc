// smarketing._native: the C++ core behind the Python package. Messages cross
// as serialized protobuf bytes (the wire format is the same for every
// protobuf runtime), tables as numpy arrays; the Python modules around it
// give the idiomatic face. No business logic lives here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/base/enum_label.h"
#include "core/base/lead_fields.h"
#include "core/base/problems.h"
#include "core/base/version.h"
#include "core/base/yaml_message.h"
#include "core/batch/lead_columns_writer.h"
#include "core/batch/lead_table.h"
#include "core/batch/parallel_for.h"
#include "core/batch/replay_table.h"
#include "core/batch/score_table.h"
#include "core/checks/data_check.h"
#include "core/checks/playbook_diff.h"
#include "core/journey/lead_engine.h"
#include "core/journey/lead_outcome.h"
#include "core/leads/lead_io.h"
#include "core/leads/lead_json.h"
#include "core/playbook/compiled_playbook.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/lead_validation.h"
#include "core/scoring/scorer.h"
#include "core/synthetic/lead_generator.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"

namespace py = pybind11;

namespace smarketing {
namespace {

// What a failed call was working on; it chooses the Python exception.
enum class Subject { kPlaybook, kLead, kInput };

// The one place where a core status becomes a Python exception: the class
// comes from smarketing.errors, the problems from the status payload.
[[noreturn]] void Raise(const absl::Status& status, Subject subject) {
  // Messages may quote the bytes they refuse, which need not be UTF-8.
  auto text = [](absl::string_view bytes) {
    return py::reinterpret_steal<py::str>(PyUnicode_DecodeUTF8(
        bytes.data(), static_cast<py::ssize_t>(bytes.size()), "replace"));
  };
  py::list problems;
  if (auto list = ProblemsFromStatus(status)) {
    for (const v1::ValidationProblem& p : list->problems()) {
      problems.append(py::make_tuple(text(p.path()), text(p.message()),
                                     p.line(), p.column(), text(p.file())));
    }
  }
  const char* subject_name = subject == Subject::kPlaybook ? "playbook"
                             : subject == Subject::kLead   ? "lead"
                                                           : "input";
  py::object error =
      py::module_::import("smarketing.errors")
          .attr("_from_status")(subject_name,
                                absl::StatusCodeToString(status.code()),
                                text(status.message()), problems);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())),
                  error.ptr());
  throw py::error_already_set();
}

void Check(const absl::Status& status, Subject subject) {
  if (!status.ok()) Raise(status, subject);
}

absl::Time FromNanos(int64_t nanos) { return absl::FromUnixNanos(nanos); }

// A vector handed to numpy without a copy: the array owns it.
template <typename T>
py::array_t<T> ToNumpy(std::vector<T>&& values) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule owner(owned,
                    [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(owned->size())},
                        owned->data(), owner);
}

py::str ToPy(const std::string& text) {
  return py::reinterpret_steal<py::str>(PyUnicode_DecodeUTF8(
      text.data(), static_cast<py::ssize_t>(text.size()), "replace"));
}

const google::protobuf::Message* Prototype(const std::string& type_name) {
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          type_name);
  if (descriptor == nullptr) {
    Raise(absl::InvalidArgumentError(
              absl::StrCat("unknown message type \"", type_name, "\"")),
          Subject::kInput);
  }
  return google::protobuf::MessageFactory::generated_factory()->GetPrototype(
      descriptor);
}

template <typename M>
M ParseBytes(const py::bytes& data, Subject subject) {
  M message;
  const std::string_view view = data;
  if (!message.ParseFromArray(view.data(), static_cast<int>(view.size()))) {
    Raise(absl::InvalidArgumentError(
              absl::StrCat("not a serialized ", M::descriptor()->full_name(),
                           " (", view.size(), " bytes)")),
          subject);
  }
  return message;
}

py::bytes Serialize(const google::protobuf::Message& message) {
  std::string out;
  message.SerializeToString(&out);
  return py::bytes(out);
}

absl::StatusOr<PlaybookFormat> FormatFromName(const std::string& name) {
  if (name == "yaml") return PlaybookFormat::kYaml;
  if (name == "json") return PlaybookFormat::kJson;
  if (name == "text") return PlaybookFormat::kText;
  if (name == "binary") return PlaybookFormat::kBinary;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown Playbook format \"", name,
                   "\"; use yaml, json, text or binary"));
}

// --- Tables from Python. ----------------------------------------------------

// Columns described by the Python side as (kind, name, values, extra,
// present) tuples, with the Python objects kept alive while C++ reads them,
// on `threads` threads (<= 0: all cores).
class ColumnsFromPython {
 public:
  ColumnsFromPython(const py::list& specs, absl::string_view table,
                    int threads = 0)
      : threads_(threads) {
    for (const py::handle spec_handle : specs) {
      py::tuple spec = py::reinterpret_borrow<py::tuple>(spec_handle);
      const std::string kind = spec[0].cast<std::string>();
      Column column;
      column.name = spec[1].cast<std::string>();
      py::object values = spec[2];
      py::object extra = spec[3];
      py::object present = spec[4];
      keep_.push_back(values);
      keep_.push_back(extra);
      keep_.push_back(present);
      if (kind == "objects") {
        column.type = Column::Type::kText;
        std::vector<uint8_t>& present_rows = presents_.emplace_back();
        ReadObjects(values, table, column.name, &present_rows);
        column.text = absl::MakeConstSpan(views_.back());
        if (!present_rows.empty())
          column.present = absl::MakeConstSpan(present_rows);
      } else if (kind == "codes") {
        column.type = Column::Type::kText;
        // pandas keeps categorical codes in the narrowest integer type.
        const int width = py::array::ensure(values).itemsize();
        if (width == 1) {
          column.codes8 = Span<int8_t>(values);
        } else if (width == 2) {
          column.codes16 = Span<int16_t>(values);
        } else {
          column.codes = Span<int32_t>(values);
        }
        ReadObjects(extra, table, column.name, nullptr);
        column.dictionary = absl::MakeConstSpan(views_.back());
      } else if (kind == "int" || kind == "time") {
        column.type = kind == "int" ? Column::Type::kInt : Column::Type::kTime;
        column.ints = Span<int64_t>(values);
        if (kind == "time" && !extra.is_none()) {
          column.ticks_per_second = extra.cast<int64_t>();
        }
      } else if (kind == "value") {
        // values: the kinds; extra: (numbers, booleans, texts).
        column.type = Column::Type::kValue;
        column.kinds = Span<uint8_t>(values);
        py::tuple parts = py::reinterpret_borrow<py::tuple>(extra);
        column.doubles = Span<double>(parts[0]);
        column.bools = Span<uint8_t>(parts[1]);
        ReadObjects(parts[2], table, column.name, nullptr);
        column.text = absl::MakeConstSpan(views_.back());
      } else if (kind == "double") {
        column.type = Column::Type::kDouble;
        column.doubles = Span<double>(values);
      } else if (kind == "bool") {
        column.type = Column::Type::kBool;
        column.bools = Span<uint8_t>(values);
      } else {
        throw std::invalid_argument("unknown column kind " + kind);
      }
      if (!present.is_none()) column.present = Span<uint8_t>(present);
      columns_.push_back(std::move(column));
    }
  }

  std::vector<Column> columns() const { return columns_; }

 private:
  template <typename T>
  absl::Span<const T> Span(const py::object& array) {
    // The Python side passes contiguous arrays of the exact dtype; the cast
    // below only checks, it never copies.
    auto typed = py::array_t<T, py::array::c_style>::ensure(array);
    if (!typed || typed.ndim() != 1) {
      throw std::invalid_argument("expected a one-dimensional numeric array");
    }
    keep_.push_back(typed);
    return absl::MakeConstSpan(typed.data(), static_cast<size_t>(typed.size()));
  }

  // pandas.NA, the missing value of pandas' nullable types.
  static PyObject* NaValue() {
    static PyObject* na =
        py::object(py::module_::import("pandas").attr("NA")).release().ptr();
    return na;
  }

  // Views of the UTF-8 text of str objects. None, NaN and pandas.NA are
  // missing: an empty view, and 0 in `present` (left empty when nothing is
  // missing).
  void ReadObjects(const py::object& values, absl::string_view table,
                   const std::string& name, std::vector<uint8_t>* present) {
    auto array = py::array::ensure(values);
    if (!array || array.dtype().kind() != 'O' || array.ndim() != 1) {
      throw std::invalid_argument("expected a one-dimensional object array");
    }
    keep_.push_back(array);
    const int64_t n = array.size();
    PyObject* const* items = static_cast<PyObject* const*>(array.data());
    std::vector<absl::string_view>& views = views_.emplace_back(n);
    // Most text is ASCII, its own UTF-8, read in place. Each str is an
    // object of its own in memory, so a column of ids (one per event) is
    // read on every core: only the objects' fields are read, as the views
    // below are, which needs no GIL. Chunks holding anything else are
    // read again with it.
    constexpr int64_t kChunk = 1 << 14;
    std::vector<uint8_t> other((n + kChunk - 1) / kChunk, 0);
    {
      py::gil_scoped_release release;
      ParallelFor(
          n, threads_,
          [&](int, int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
              PyObject* item = items[i];
              if (PyUnicode_CheckExact(item) &&
                  PyUnicode_IS_COMPACT_ASCII(item)) {
                views[i] = absl::string_view(
                    static_cast<const char*>(PyUnicode_DATA(item)),
                    static_cast<size_t>(PyUnicode_GET_LENGTH(item)));
              } else {
                other[i / kChunk] = 1;
              }
            }
          },
          kChunk);
    }
    for (size_t c = 0; c < other.size(); ++c) {
      if (!other[c]) continue;
      const int64_t end = std::min<int64_t>(n, (c + 1) * kChunk);
      for (int64_t i = c * kChunk; i < end; ++i) {
        PyObject* item = items[i];
        if (PyUnicode_CheckExact(item) && PyUnicode_IS_COMPACT_ASCII(item)) {
          continue;
        }
        if (PyUnicode_Check(item)) {
          Py_ssize_t size = 0;
          const char* data = PyUnicode_AsUTF8AndSize(item, &size);
          if (data == nullptr) throw py::error_already_set();
          views[i] = absl::string_view(data, static_cast<size_t>(size));
          continue;
        }
        if (item == Py_None || item == NaValue() ||
            (PyFloat_Check(item) && std::isnan(PyFloat_AS_DOUBLE(item)))) {
          if (present != nullptr) {
            if (present->empty()) present->assign(n, 1);
            (*present)[i] = 0;
          }
          continue;
        }
        Raise(FieldError(absl::StrCat(table, ".", name),
                         absl::StrCat("row ", i, ": expected text, found ",
                                      Py_TYPE(item)->tp_name)),
              Subject::kInput);
      }
    }
  }

  const int threads_;
  std::vector<py::object> keep_;
  std::vector<std::vector<absl::string_view>> views_;
  // A deque: columns keep pointers into the vectors it holds.
  std::deque<std::vector<uint8_t>> presents_;
  std::vector<Column> columns_;
};

// A LeadTable with the Python objects and text views its columns point
// into, which must live as long as it does.
struct BoundTable {
  BoundTable(const py::list& leads, const py::list& events, int threads)
      : lead_columns(leads, "leads", threads),
        event_columns(events, "events", threads) {}
  ColumnsFromPython lead_columns;
  ColumnsFromPython event_columns;
  std::unique_ptr<LeadTable> table;
};

// The table of `leads` and `events`, their columns read on `threads`
// threads (<= 0: all cores).
std::unique_ptr<BoundTable> MakeTable(const py::list& leads,
                                      const py::list& events, int threads = 0) {
  auto bound = std::make_unique<BoundTable>(leads, events, threads);
  absl::StatusOr<std::unique_ptr<LeadTable>> table;
  {
    py::gil_scoped_release release;
    table = LeadTable::Create(bound->lead_columns.columns(),
                              bound->event_columns.columns());
  }
  Check(table.status(), Subject::kInput);
  bound->table = std::move(*table);
  return bound;
}

// --- Tables to Python. ------------------------------------------------------

py::object TextToPython(LeadColumnsWriter::TextColumn&& column) {
  if (column.codes.empty()) {
    py::array result(py::dtype("O"),
                     std::vector<py::ssize_t>{
                         static_cast<py::ssize_t>(column.values.size())});
    PyObject** items = static_cast<PyObject**>(result.mutable_data());
    for (size_t i = 0; i < column.values.size(); ++i) {
      PyObject* item = column.values[i].empty()
                           ? Py_None
                           : ToPy(column.values[i]).release().ptr();
      if (item == Py_None) Py_INCREF(item);
      Py_XDECREF(items[i]);
      items[i] = item;
    }
    return py::make_tuple("objects", result);
  }
  py::list dictionary;
  for (const std::string& value : column.dictionary)
    dictionary.append(ToPy(value));
  return py::make_tuple("codes", ToNumpy(std::move(column.codes)), dictionary);
}

py::dict TableToPython(LeadColumnsWriter::Table&& table) {
  py::dict out;
  out["__rows__"] = table.rows;
  for (auto& [name, column] : table.text)
    out[py::str(name)] = TextToPython(std::move(column));
  for (auto& [name, v] : table.ints)
    out[py::str(name)] = py::make_tuple("int", ToNumpy(std::move(v)));
  for (auto& [name, v] : table.doubles) {
    out[py::str(name)] = py::make_tuple("double", ToNumpy(std::move(v)));
  }
  for (auto& [name, v] : table.bools)
    out[py::str(name)] = py::make_tuple("bool", ToNumpy(std::move(v)));
  for (auto& [name, v] : table.times) {
    out[py::str(name)] =
        py::make_tuple("time", ToNumpy(std::move(v.ticks)),
                       ToNumpy(std::move(v.present)), v.ticks_per_second);
  }
  for (auto& [name, v] : table.values) {
    out[py::str(name)] = py::make_tuple(
        "value", ToNumpy(std::move(v.kinds)), ToNumpy(std::move(v.numbers)),
        ToNumpy(std::move(v.bools)), TextToPython(std::move(v.text)));
  }
  return out;
}

py::tuple WriterToPython(LeadColumnsWriter* writer) {
  LeadColumnsWriter::Table leads = writer->TakeLeads();
  LeadColumnsWriter::Table events = writer->TakeEvents();
  return py::make_tuple(TableToPython(std::move(leads)),
                        TableToPython(std::move(events)));
}

// --- The compiled Playbook. -------------------------------------------------

class NativePlaybook {
 public:
  // Compiles `playbook`. When `source` is given and still parses to the same
  // Playbook, problems carry its lines and columns.
  NativePlaybook(const py::bytes& playbook, const py::object& source,
                 const std::string& format, const std::string& file) {
    v1::Playbook message =
        ParseBytes<v1::Playbook>(playbook, Subject::kPlaybook);
    SourceMap positions;
    bool have_positions = false;
    if (!source.is_none()) {
      auto parsed_format = FormatFromName(format);
      Check(parsed_format.status(), Subject::kInput);
      const std::string text = source.cast<std::string>();
      auto parsed = ParsePlaybook(text, *parsed_format, file);
      if (parsed.ok() &&
          parsed->playbook.SerializeAsString() == message.SerializeAsString()) {
        positions = std::move(parsed->positions);
        have_positions = true;
      }
    }
    // The lead engine compiles the whole Playbook (scoring, routing, SLA),
    // so validation here is the service's.
    auto engine =
        LeadEngine::Create(message, have_positions ? &positions : nullptr,
                           have_positions ? file : "");
    Check(engine.status(), Subject::kPlaybook);
    engine_ = std::move(*engine);
    compiled_ = engine_->playbook();
  }

  std::string version_label() const { return compiled_->version_label(); }

  py::bytes Score(const py::bytes& lead_bytes, int64_t now_nanos) const {
    const v1::Lead lead = ParseBytes<v1::Lead>(lead_bytes, Subject::kLead);
    absl::StatusOr<v1::ScoreResult> result;
    {
      py::gil_scoped_release release;
      Scorer scorer(compiled_);
      result = scorer.Score(lead, FromNanos(now_nanos));
    }
    Check(result.status(), Subject::kLead);
    return Serialize(*result);
  }

  // Scores a table. `explain`: "none", "contributions" (rule indexes and
  // points), "sentences" (also one sentence per rule) or "column" (the
  // sentences joined per lead).
  // With `check_sample` > 0, the data of that many leads, spread over the
  // table, is also checked (as CheckTable checks it) under "problems".
  py::dict ScoreTable(const py::list& leads, const py::list& events,
                      int64_t now_nanos, int threads,
                      const std::string& explain, bool route,
                      int64_t check_sample) const {
    if (explain != "none" && explain != "contributions" &&
        explain != "sentences" && explain != "column") {
      Raise(absl::InvalidArgumentError(
                absl::StrCat("explain must be none, contributions, sentences "
                             "or column; found ",
                             explain)),
            Subject::kInput);
    }
    std::unique_ptr<BoundTable> bound = MakeTable(leads, events, threads);
    const LeadTable* table = bound->table.get();
    ScoreTableOptions options;
    options.now = FromNanos(now_nanos);
    options.threads = threads;
    options.contributions = explain == "contributions";
    options.sentences = explain == "sentences" || explain == "column";
    if (route) options.engine = engine_;
    ScoreColumns out;
    absl::Status status;
    std::vector<DataProblem> problems;
    {
      py::gil_scoped_release release;
      status = smarketing::ScoreTable(compiled_, *table, options, &out);
      if (status.ok()) problems = SampleProblems(*table, check_sample);
    }
    Check(status, Subject::kLead);

    py::dict result;
    if (check_sample > 0) result["problems"] = ProblemTuples(problems);
    result["fit"] = ToNumpy(std::move(out.fit));
    result["engagement"] = ToNumpy(std::move(out.engagement));
    result["total"] = ToNumpy(std::move(out.total));
    result["persona"] = ToNumpy(std::move(out.persona));
    result["grade"] = ToNumpy(std::move(out.grade));
    result["stage"] = ToNumpy(std::move(out.stage));
    result["priority"] = ToNumpy(std::move(out.priority));
    result["disqualification_reason"] =
        ToNumpy(std::move(out.disqualification_reason));
    result["hand_raiser"] = ToNumpy(std::move(out.hand_raiser));
    result["events_counted"] = ToNumpy(std::move(out.events_counted));
    result["duplicate_events"] = ToNumpy(std::move(out.duplicate_events));
    if (route) {
      py::list teams, owners;
      for (const std::string& t : out.teams) teams.append(ToPy(t));
      for (const std::string& o : out.owners) owners.append(ToPy(o));
      result["team"] = py::make_tuple(ToNumpy(std::move(out.team)), teams);
      result["owner"] = py::make_tuple(ToNumpy(std::move(out.owner)), owners);
    }
    if (explain == "none") return result;

    const size_t hits = out.contributions.size();
    std::vector<int32_t> kind(hits), persona(hits), rule(hits),
        event_count(hits);
    std::vector<double> raw_points(hits), points(hits);
    for (size_t i = 0; i < hits; ++i) {
      const RuleContribution& c = out.contributions[i];
      kind[i] = c.kind;
      persona[i] = c.persona;
      rule[i] = c.rule;
      event_count[i] = c.event_count;
      raw_points[i] = c.raw_points;
      points[i] = c.points;
    }
    if (explain == "column") {
      const int64_t n = table->size();
      py::array column(py::dtype("O"),
                       std::vector<py::ssize_t>{static_cast<py::ssize_t>(n)});
      PyObject** items = static_cast<PyObject**>(column.mutable_data());
      std::string joined;
      for (int64_t r = 0; r < n; ++r) {
        joined.clear();
        for (int64_t i = out.contribution_begin[r];
             i < out.contribution_begin[r + 1]; ++i) {
          if (!joined.empty()) joined += '\n';
          joined += out.sentences[i];
        }
        Py_XDECREF(items[r]);
        items[r] = ToPy(joined).release().ptr();
      }
      result["explanation"] = column;
      return result;
    }
    result["contribution_begin"] = ToNumpy(std::move(out.contribution_begin));
    result["kind"] = ToNumpy(std::move(kind));
    result["persona_index"] = ToNumpy(std::move(persona));
    result["rule"] = ToNumpy(std::move(rule));
    result["event_count"] = ToNumpy(std::move(event_count));
    result["raw_points"] = ToNumpy(std::move(raw_points));
    result["points"] = ToNumpy(std::move(points));
    if (explain == "sentences") {
      py::list sentences;
      for (const std::string& s : out.sentences) sentences.append(ToPy(s));
      result["sentences"] = sentences;
    }
    return result;
  }

  // The leads of a table replayed as they arrived, up to `end_nanos`
  // (core/batch/replay_table.h): the columns of ReplayColumns, times in
  // nanoseconds.
  // `check_sample` as for ScoreTable.
  py::dict ReplayTable(const py::list& leads, const py::list& events,
                       int64_t end_nanos, int threads,
                       int64_t check_sample) const {
    std::unique_ptr<BoundTable> bound = MakeTable(leads, events, threads);
    ReplayOptions options;
    options.end = FromNanos(end_nanos);
    options.threads = threads;
    ReplayColumns out;
    absl::Status status;
    std::vector<DataProblem> problems;
    {
      py::gil_scoped_release release;
      status = smarketing::ReplayTable(*engine_, *bound->table, options, &out);
      if (status.ok()) problems = SampleProblems(*bound->table, check_sample);
    }
    Check(status, Subject::kLead);
    py::dict result;
    if (check_sample > 0) result["problems"] = ProblemTuples(problems);
    result["stage"] = ToNumpy(std::move(out.stage));
    result["arrived_at"] = ToNumpy(std::move(out.arrived_at));
    result["decided_at"] = ToNumpy(std::move(out.decided_at));
    result["decisions"] = ToNumpy(std::move(out.decisions));
    result["fit"] = ToNumpy(std::move(out.fit));
    result["engagement"] = ToNumpy(std::move(out.engagement));
    result["total"] = ToNumpy(std::move(out.total));
    result["persona"] = ToNumpy(std::move(out.persona));
    result["grade"] = ToNumpy(std::move(out.grade));
    result["priority"] = ToNumpy(std::move(out.priority));
    result["disqualification_reason"] =
        ToNumpy(std::move(out.disqualification_reason));
    result["hand_raiser"] = ToNumpy(std::move(out.hand_raiser));
    return result;
  }

  // The data of a table checked against this Playbook (core/checks/
  // data_check.h): one tuple per problem, (kind, severity, column, rule,
  // rows, example, message). `max_leads` > 0 checks an even sample.
  py::list CheckTable(const py::list& leads, const py::list& events,
                      int64_t max_leads) const {
    ColumnsFromPython lead_columns(leads, "leads");
    ColumnsFromPython event_columns(events, "events");
    DataCheckOptions options;
    options.max_leads = max_leads;
    absl::StatusOr<std::vector<DataProblem>> problems;
    {
      py::gil_scoped_release release;
      problems = CheckLeadColumns(compiled_, lead_columns.columns(),
                                  event_columns.columns(), options);
    }
    Check(problems.status(), Subject::kInput);
    return ProblemTuples(*problems);
  }

  // What changes from this Playbook to `after` on the leads of a table:
  // the core's lead impact (the command line's diff), with every lead whose
  // grade, stage or team changed.
  py::dict Impact(const NativePlaybook& after, const py::list& leads,
                  const py::list& events, int64_t now_nanos,
                  int threads) const {
    std::unique_ptr<BoundTable> bound = MakeTable(leads, events, threads);
    LeadImpactOptions options;
    options.now = FromNanos(now_nanos);
    options.threads = threads;
    options.top = 0;
    options.list_changed = true;
    absl::StatusOr<LeadImpact> impact;
    {
      py::gil_scoped_release release;
      impact =
          MeasureTableImpact(engine_, after.engine_, *bound->table, options);
    }
    Check(impact.status(), Subject::kLead);
    if (impact->refused > 0) {
      Raise(absl::InvalidArgumentError(impact->errors.front()), Subject::kLead);
    }
    auto matrix = [](const TransitionMatrix& m) {
      py::list labels;
      for (const std::string& label : m.labels) labels.append(ToPy(label));
      return py::make_tuple(labels, py::cast(m.counts));
    };
    py::dict result;
    result["leads"] = impact->leads;
    result["grades"] = matrix(impact->grades);
    result["stages"] = matrix(impact->stages);
    if (impact->routed) result["teams"] = matrix(impact->teams);
    const size_t n = impact->changed.size();
    std::vector<int64_t> row(n);
    std::vector<double> total_before(n), total_after(n);
    py::list grade_before, grade_after, stage_before, stage_after, team_before,
        team_after;
    for (size_t i = 0; i < n; ++i) {
      const LeadDelta& d = impact->changed[i];
      row[i] = d.line;
      total_before[i] = d.total_before;
      total_after[i] = d.total_after;
      grade_before.append(ToPy(d.grade_before));
      grade_after.append(ToPy(d.grade_after));
      stage_before.append(ToPy(EnumLabel(d.stage_before)));
      stage_after.append(ToPy(EnumLabel(d.stage_after)));
      team_before.append(ToPy(d.team_before));
      team_after.append(ToPy(d.team_after));
    }
    result["row"] = ToNumpy(std::move(row));
    result["total_before"] = ToNumpy(std::move(total_before));
    result["total_after"] = ToNumpy(std::move(total_after));
    result["grade_before"] = grade_before;
    result["grade_after"] = grade_after;
    result["stage_before"] = stage_before;
    result["stage_after"] = stage_after;
    result["team_before"] = team_before;
    result["team_after"] = team_after;
    return result;
  }

 private:
  // The problems of a sample of `max_leads` leads of `table`; none asked
  // for when `max_leads` <= 0.
  std::vector<DataProblem> SampleProblems(const LeadTable& table,
                                          int64_t max_leads) const {
    if (max_leads <= 0) return {};
    DataCheckOptions options;
    options.max_leads = max_leads;
    return CheckLeadTable(compiled_, table, options);
  }

  static py::list ProblemTuples(const std::vector<DataProblem>& problems) {
    py::list out;
    for (const DataProblem& p : problems) {
      out.append(py::make_tuple(std::string(DataProblemKindName(p.kind)),
                                IsWarning(p.kind) ? "warning" : "note",
                                ToPy(p.column), ToPy(p.rule), p.rows,
                                ToPy(p.example), ToPy(p.message)));
    }
    return out;
  }

  std::shared_ptr<const LeadEngine> engine_;
  std::shared_ptr<const CompiledPlaybook> compiled_;
};

py::bytes ParsePlaybookText(const std::string& text, const std::string& format,
                            const std::string& file) {
  auto parsed_format = FormatFromName(format);
  Check(parsed_format.status(), Subject::kInput);
  absl::StatusOr<PlaybookSource> source =
      ParsePlaybook(text, *parsed_format, file);
  Check(source.status(), Subject::kPlaybook);
  return Serialize(source->playbook);
}

// Where each field of a Playbook was written: path -> (line, column), 1-based.
py::dict PlaybookPositions(const std::string& text, const std::string& format) {
  auto parsed_format = FormatFromName(format);
  Check(parsed_format.status(), Subject::kInput);
  absl::StatusOr<PlaybookSource> source =
      ParsePlaybook(text, *parsed_format, "");
  Check(source.status(), Subject::kPlaybook);
  py::dict positions;
  for (const auto& [path, position] : source->positions) {
    positions[py::str(path)] = py::make_tuple(position.line, position.column);
  }
  return positions;
}

py::str MessageToYamlText(const std::string& type_name, const py::bytes& data) {
  std::unique_ptr<google::protobuf::Message> message(
      Prototype(type_name)->New());
  const std::string_view view = data;
  if (!message->ParseFromArray(view.data(), static_cast<int>(view.size()))) {
    Raise(absl::InvalidArgumentError(
              absl::StrCat("not a serialized ", type_name)),
          Subject::kInput);
  }
  return ToPy(MessageToYaml(*message));
}

py::bytes ParseYamlText(const std::string& type_name, const std::string& text,
                        const std::string& file) {
  std::unique_ptr<google::protobuf::Message> message(
      Prototype(type_name)->New());
  ProblemList problems(nullptr, file);
  if (!ParseYamlMessage(text, message.get(), &problems)) {
    Raise(problems.ToStatus(absl::StrCat("the ", type_name, " cannot be read")),
          type_name == "smarketing.v1.Playbook" ? Subject::kPlaybook
                                                : Subject::kInput);
  }
  return Serialize(*message);
}

py::tuple SampleLeads(int64_t count, uint64_t seed, int64_t now_nanos,
                      double mean_events, int64_t start) {
  if (count < 0 || start < 0) {
    Raise(absl::InvalidArgumentError("count and start must not be negative"),
          Subject::kInput);
  }
  if (!(mean_events >= 0 && mean_events <= 10000)) {
    Raise(absl::InvalidArgumentError("mean_events must be within [0, 10000]"),
          Subject::kInput);
  }
  LeadGeneratorOptions options;
  options.seed = seed;
  options.now = FromNanos(now_nanos);
  options.mean_events = mean_events;
  LeadColumnsWriter writer;
  std::vector<uint8_t> converted(count), won(count);
  std::vector<double> revenue(count);
  {
    py::gil_scoped_release release;
    LeadGenerator generator(options);
    v1::Lead lead;
    for (int64_t i = 0; i < count; ++i) {
      generator.Generate(start + i, &lead);
      const LeadGenerator::Outcome outcome =
          generator.OutcomeOf(lead, start + i);
      converted[i] = outcome.converted;
      won[i] = outcome.won;
      revenue[i] = outcome.revenue;
      writer.Add(lead);
    }
  }
  py::dict outcomes;
  outcomes["converted"] = ToNumpy(std::move(converted));
  outcomes["won"] = ToNumpy(std::move(won));
  outcomes["revenue"] = ToNumpy(std::move(revenue));
  py::tuple tables = WriterToPython(&writer);
  return py::make_tuple(tables[0], tables[1], outcomes);
}

// Outcomes of leads as they are in a table (perhaps altered since they were
// generated): OutcomeOf for each row, `index` giving the generator index.
py::dict Outcomes(
    const py::list& leads, const py::list& events, uint64_t seed,
    int64_t now_nanos, double mean_events,
    py::array_t<int64_t, py::array::c_style | py::array::forcecast> index) {
  std::unique_ptr<BoundTable> bound = MakeTable(leads, events);
  const LeadTable* table = bound->table.get();
  if (index.ndim() != 1 || index.size() != table->size()) {
    Raise(absl::InvalidArgumentError(absl::StrCat("index has ", index.size(),
                                                  " values for ", table->size(),
                                                  " leads")),
          Subject::kInput);
  }
  const int64_t n = table->size();
  std::vector<uint8_t> converted(n), won(n);
  std::vector<double> revenue(n);
  const int64_t* indexes = index.data();
  {
    py::gil_scoped_release release;
    LeadGeneratorOptions options;
    options.seed = seed;
    options.now = FromNanos(now_nanos);
    options.mean_events = mean_events;
    LeadGenerator generator(options);
    ParallelFor(n, 0, [&](int, int64_t begin, int64_t end) {
      TableLeadBuilder builder(*table);
      for (int64_t r = begin; r < end; ++r) {
        const v1::Lead& lead = builder.Build(r);
        const LeadGenerator::Outcome outcome =
            generator.OutcomeOf(lead, indexes[r]);
        converted[r] = outcome.converted;
        won[r] = outcome.won;
        revenue[r] = outcome.revenue;
      }
    });
  }
  py::dict out;
  out["converted"] = ToNumpy(std::move(converted));
  out["won"] = ToNumpy(std::move(won));
  out["revenue"] = ToNumpy(std::move(revenue));
  return out;
}

py::tuple ReadLeads(const std::string& path, const std::string& format) {
  std::optional<LeadFormat> chosen;
  if (format == "csv") chosen = LeadFormat::kCsv;
  if (format == "jsonl") chosen = LeadFormat::kJsonLines;
  LeadColumnsWriter writer;
  absl::Status status;
  {
    py::gil_scoped_release release;
    auto reader = LeadReader::Open(path, chosen);
    status = reader.status();
    if (status.ok()) {
      v1::Lead lead;
      for (;;) {
        absl::StatusOr<bool> more = (*reader)->Next(&lead);
        if (!more.ok()) {
          status = more.status();
          break;
        }
        if (!*more) break;
        // Columns cannot hold everything a message can (NaN revenue reads
        // as missing, an unknown seniority as none): a lead the core
        // refuses is refused here, as `smarketing score` refuses it.
        if (absl::Status st = ValidateLead(lead); !st.ok()) {
          status = RecordError(path, (*reader)->line(),
                               absl::StrCat("lead \"", lead.id(), "\": "), st);
          break;
        }
        writer.Add(lead);
      }
    }
  }
  Check(status, Subject::kLead);
  return WriterToPython(&writer);
}

// One lead in the protobuf JSON mapping, read as `smarketing score` reads
// each line of a file, as a serialized message.
py::bytes ParseLeadJsonText(const py::bytes& text) {
  const std::string_view view = text;
  v1::Lead lead;
  absl::Status status;
  {
    py::gil_scoped_release release;
    status = ParseLeadJsonQuickly(absl::string_view(view.data(), view.size()),
                                  &lead);
  }
  if (!status.ok()) {
    absl::Status refused = absl::InvalidArgumentError(
        absl::StrCat("not a lead: ", status.message()));
    status.ForEachPayload(
        [&](absl::string_view url, const absl::Cord& payload) {
          refused.SetPayload(url, payload);
        });
    Raise(refused, Subject::kLead);
  }
  return Serialize(lead);
}

// Leads given as serialized messages, as columns.
py::tuple LeadsToColumns(const py::list& leads) {
  LeadColumnsWriter writer;
  for (const py::handle item : leads) {
    writer.Add(ParseBytes<v1::Lead>(py::reinterpret_borrow<py::bytes>(item),
                                    Subject::kLead));
  }
  return WriterToPython(&writer);
}

// Leads [begin, end) of a table as serialized messages.
py::list TableLeads(const py::list& leads, const py::list& events,
                    int64_t begin, int64_t end) {
  std::unique_ptr<BoundTable> bound = MakeTable(leads, events);
  const LeadTable* table = bound->table.get();
  if (begin < 0 || end > table->size() || begin > end) {
    Raise(absl::OutOfRangeError(absl::StrCat("rows [", begin, ", ", end,
                                             ") are not in the table of ",
                                             table->size(), " leads")),
          Subject::kInput);
  }
  std::vector<std::string> serialized(end - begin);
  {
    py::gil_scoped_release release;
    TableLeadBuilder builder(*table);
    for (int64_t r = begin; r < end; ++r) {
      builder.Build(r).SerializeToString(&serialized[r - begin]);
    }
  }
  py::list out;
  for (const std::string& data : serialized) out.append(py::bytes(data));
  return out;
}

// What became of each lead (serialized LeadLifecycle messages), as columns;
// mql_at in nanoseconds since the epoch, or None.
py::dict LeadOutcomes(const py::list& lifecycles) {
  const size_t n = lifecycles.size();
  std::vector<uint8_t> mql(n), accepted(n), rejected(n), sql(n), converted(n),
      won(n), lost(n);
  py::list mql_at, rejection_reason, loss_reason;
  for (size_t i = 0; i < n; ++i) {
    const LeadOutcome o = OutcomeOf(ParseBytes<v1::LeadLifecycle>(
        py::reinterpret_borrow<py::bytes>(lifecycles[i]), Subject::kInput));
    mql[i] = o.mql;
    accepted[i] = o.accepted;
    rejected[i] = o.rejected;
    sql[i] = o.sql;
    converted[i] = o.converted;
    won[i] = o.won;
    lost[i] = o.lost;
    mql_at.append(o.mql_at.has_value()
                      ? py::object(py::int_(absl::ToUnixNanos(*o.mql_at)))
                      : py::object(py::none()));
    auto reason = [](const std::string& code) {
      return code.empty() ? py::object(py::none()) : py::object(py::str(code));
    };
    rejection_reason.append(reason(o.rejection_reason));
    loss_reason.append(reason(o.loss_reason));
  }
  py::dict out;
  out["mql"] = ToNumpy(std::move(mql));
  out["mql_at"] = mql_at;
  out["accepted"] = ToNumpy(std::move(accepted));
  out["rejected"] = ToNumpy(std::move(rejected));
  out["rejection_reason"] = rejection_reason;
  out["sql"] = ToNumpy(std::move(sql));
  out["converted"] = ToNumpy(std::move(converted));
  out["won"] = ToNumpy(std::move(won));
  out["lost"] = ToNumpy(std::move(lost));
  out["loss_reason"] = loss_reason;
  return out;
}

// The lead columns of CSV files and DataFrames, in their documented order.
py::list LeadColumns() {
  py::list out;
  for (const LeadField& field : kLeadFields) {
    if (!field.derived) out.append(py::str(std::string(field.column)));
  }
  return out;
}

// Labels by number ("mql" for LIFECYCLE_STAGE_MQL) of an enum of the schema,
// so that DataFrames name values exactly as Playbooks and reports do.
py::dict EnumLabels(const std::string& type_name) {
  const google::protobuf::EnumDescriptor* type =
      google::protobuf::DescriptorPool::generated_pool()->FindEnumTypeByName(
          type_name);
  if (type == nullptr) {
    Raise(absl::NotFoundError(
              absl::StrCat("no enum type ", type_name, " in the schema")),
          Subject::kInput);
  }
  py::dict out;
  for (int i = 0; i < type->value_count(); ++i) {
    out[py::int_(type->value(i)->number())] = EnumLabel(type->value(i));
  }
  return out;
}

// The bounds validation puts on points, for tools that write Playbooks.
py::dict Limits() {
  py::dict limits;
  limits["criterion_weight"] = ScoringLimits::kCriterionWeight;
  limits["fit_rule_points"] = ScoringLimits::kFitRulePoints;
  limits["engagement_rule_points"] = ScoringLimits::kEngagementRulePoints;
  limits["max_fit"] = ScoringLimits::kMaxFit;
  return limits;
}

// The core's stage rule over columns of scores: which rows meet `threshold`
// (a serialized smarketing.v1.StageThreshold).
py::array_t<bool> MeetsThresholdColumns(const py::bytes& threshold,
                                        const py::array_t<double>& fit,
                                        const py::array_t<double>& engagement,
                                        const py::array_t<double>& total) {
  const v1::StageThreshold t =
      ParseBytes<v1::StageThreshold>(threshold, Subject::kInput);
  const py::ssize_t n = fit.size();
  if (engagement.size() != n || total.size() != n) {
    Raise(absl::InvalidArgumentError(absl::StrCat(
              "fit, engagement and total must have the same length; found ", n,
              ", ", engagement.size(), " and ", total.size())),
          Subject::kInput);
  }
  py::array_t<bool> out(n);
  auto f = fit.unchecked<1>();
  auto e = engagement.unchecked<1>();
  auto s = total.unchecked<1>();
  auto o = out.mutable_unchecked<1>();
  for (py::ssize_t i = 0; i < n; ++i)
    o(i) = MeetsThreshold(t, f(i), e(i), s(i));
  return out;
}

}  // namespace
}  // namespace smarketing

PYBIND11_MODULE(_native, m) {
  using namespace smarketing;
  m.doc() =
      "The smarketing C++ core. Use the smarketing package, not this module.";
  m.attr("__version__") = std::string(Version());
  py::class_<NativePlaybook>(m, "CompiledPlaybook")
      .def(py::init<const py::bytes&, const py::object&, const std::string&,
                    const std::string&>(),
           py::arg("playbook"), py::arg("source") = py::none(),
           py::arg("format") = "yaml", py::arg("file") = "")
      .def_property_readonly("version_label", &NativePlaybook::version_label)
      .def("score", &NativePlaybook::Score, py::arg("lead"),
           py::arg("now_nanos"))
      .def("score_table", &NativePlaybook::ScoreTable, py::arg("leads"),
           py::arg("events"), py::arg("now_nanos"), py::arg("threads") = 0,
           py::arg("explain") = "none", py::arg("route") = false,
           py::arg("check_sample") = 0)
      .def("replay_table", &NativePlaybook::ReplayTable, py::arg("leads"),
           py::arg("events"), py::arg("end_nanos"), py::arg("threads") = 0,
           py::arg("check_sample") = 0)
      .def("check_table", &NativePlaybook::CheckTable, py::arg("leads"),
           py::arg("events"), py::arg("max_leads") = 0)
      .def("impact", &NativePlaybook::Impact, py::arg("after"),
           py::arg("leads"), py::arg("events"), py::arg("now_nanos"),
           py::arg("threads") = 0);
  m.def("parse_playbook", &ParsePlaybookText, py::arg("text"),
        py::arg("format"), py::arg("file") = "");
  m.def("playbook_positions", &PlaybookPositions, py::arg("text"),
        py::arg("format"));
  m.def("message_to_yaml", &MessageToYamlText, py::arg("type_name"),
        py::arg("data"));
  m.def("parse_yaml_message", &ParseYamlText, py::arg("type_name"),
        py::arg("text"), py::arg("file") = "");
  m.def("sample_leads", &SampleLeads, py::arg("count"), py::arg("seed"),
        py::arg("now_nanos"), py::arg("mean_events") = 20.0,
        py::arg("start") = 0);
  m.def("outcomes", &Outcomes, py::arg("leads"), py::arg("events"),
        py::arg("seed"), py::arg("now_nanos"), py::arg("mean_events"),
        py::arg("index"));
  m.def("read_leads", &ReadLeads, py::arg("path"), py::arg("format") = "");
  m.def("parse_lead_json", &ParseLeadJsonText, py::arg("text"));
  m.def("leads_to_columns", &LeadsToColumns, py::arg("leads"));
  m.def("table_leads", &TableLeads, py::arg("leads"), py::arg("events"),
        py::arg("begin"), py::arg("end"));
  m.def("default_thread_count", &DefaultThreadCount);
  m.def("enum_labels", &EnumLabels, py::arg("type_name"));
  m.def("lead_columns", &LeadColumns,
        "The lead columns of CSV files and DataFrames, in order.");
  m.def("lead_outcomes", &LeadOutcomes, py::arg("lifecycles"),
        "What became of each lead, from its serialized LeadLifecycle.");
  m.def("limits", &Limits);
  m.def("meets_threshold", &MeetsThresholdColumns, py::arg("threshold"),
        py::arg("fit"), py::arg("engagement"), py::arg("total"));
}
