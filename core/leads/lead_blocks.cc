#include "core/leads/lead_blocks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/leads/lead_json.h"

namespace smarketing {
namespace {

// Bytes read at a time: thousands of typical leads, enough for every thread
// to get several of ParallelFor's chunks.
constexpr size_t kChunkBytes = 32 << 20;
constexpr size_t kCarryRoom = 1 << 20;
// Arena memory kept from lead to lead: room for a lead with hundreds of
// events; larger ones borrow more until the next lead.
constexpr size_t kLeadArenaBytes = 256 << 10;

absl::Status RecordError(absl::string_view name, int64_t line,
                         absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(name, ":", line, ": ", message));
}

absl::Status TooLong(absl::string_view name, int64_t line, int64_t bytes) {
  return RecordError(
      name, line,
      absl::StrCat("a line of ", bytes, " bytes; at most ", kMaxRecordBytes));
}

}  // namespace

ReusableLead::ReusableLead() : initial_block_(new char[kLeadArenaBytes]) {
  google::protobuf::ArenaOptions options;
  options.initial_block = initial_block_.get();
  options.initial_block_size = kLeadArenaBytes;
  arena_ = std::make_unique<google::protobuf::Arena>(options);
}

v1::Lead* ReusableLead::Fresh() {
  arena_->Reset();
  return google::protobuf::Arena::CreateMessage<v1::Lead>(arena_.get());
}

void LeadBlock::Reset() {
  records_.clear();
  cuts_.clear();
  first_index_ = 0;
}

absl::Status LeadBlock::Parse(int64_t i, v1::Lead* lead) {
  Record& record = records_[i];
  if (!record.status.ok()) return record.status;
  const absl::string_view text(data_.data() + record.offset, record.size);
  if (header_ != nullptr) {
    thread_local std::vector<std::string> fields;
    SplitCsvRecord(text, &fields);
    if (absl::Status st = CsvFieldsToLead(*header_, fields, lead); !st.ok()) {
      return RecordError(name_, record.line, st.message());
    }
    return absl::OkStatus();
  }
  absl::Status status = ParseLeadJsonQuickly(text, lead);
  if (!status.ok()) {
    return RecordError(name_, record.line, "not a lead: ", status);
  }
  return absl::OkStatus();
}

bool LeadBlock::ParseFlat(int64_t i, FlatLeadReaders* readers, v1::Lead* fields,
                          FlatLead* flat) const {
  const Record& record = records_[i];
  if (!record.status.ok()) return false;
  const absl::string_view text(data_.data() + record.offset, record.size);
  if (header_ != nullptr) {
    return readers->csv.Read(
        *header_, text,
        absl::MakeConstSpan(cuts_.data() + record.first_cut, record.cut_count),
        fields, flat);
  }
  return readers->json.Read(text, fields, flat);
}

LeadBlockReader::~LeadBlockReader() {
  if (pending_.valid()) pending_.wait();
  if (close_fd_) ::close(fd_);
}

absl::StatusOr<std::unique_ptr<LeadBlockReader>> LeadBlockReader::Open(
    const std::string& path, std::optional<LeadFormat> format) {
  std::unique_ptr<LeadBlockReader> reader(new LeadBlockReader());
  reader->format_ = format.value_or(absl::EndsWithIgnoreCase(path, ".csv")
                                        ? LeadFormat::kCsv
                                        : LeadFormat::kJsonLines);
  reader->name_ = path == "-" ? "<stdin>" : path;
  if (path == "-") {
    reader->fd_ = STDIN_FILENO;
  } else {
    reader->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (reader->fd_ < 0) {
      return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
    }
    reader->close_fd_ = true;
    struct stat st;
    if (::fstat(reader->fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      reader->total_bytes_ = st.st_size;
    }
  }
  if (reader->format_ == LeadFormat::kCsv) {
    if (absl::Status st = reader->ReadCsvHeader(); !st.ok()) return st;
    return reader;
  }
  reader->Load(Chunk(), /*read=*/true);
  return reader;
}

absl::Status LeadBlockReader::ReadCsvHeader() {
  // The header is read at once, so that a bad one fails Open as it fails
  // LeadReader::Open; the rest of the first chunk is the first to be split.
  Chunk chunk;
  ReadChunk(fd_, name_, &chunk);
  if (!chunk.status.ok()) return chunk.status;
  const absl::string_view data(chunk.buffer.data(), chunk.size);
  int64_t lines = 0;
  absl::StatusOr<size_t> n = data.empty()
                                 ? absl::StatusOr<size_t>(0)
                                 : ScanCsvRecord(data, chunk.eof, &lines);
  if (!n.ok()) return RecordError(name_, 1, n.status().message());
  if (*n == 0 && !chunk.eof) return RecordError(name_, 1, "record too long");
  if (*n == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": empty CSV file; a header row is required"));
  }
  std::vector<std::string> header;
  SplitCsvRecord(data.substr(0, *n), &header);
  auto columns = CheckCsvHeader(std::move(header));
  if (!columns.ok()) return RecordError(name_, 1, columns.status().message());
  header_ = std::make_shared<const std::vector<CsvColumn>>(*std::move(columns));
  next_line_ = 1 + lines;
  std::memmove(chunk.buffer.data(), chunk.buffer.data() + *n, chunk.size - *n);
  chunk.size -= *n;
  chunk.carry = 0;
  Load(std::move(chunk), /*read=*/false);
  return absl::OkStatus();
}

void LeadBlockReader::ReadChunk(int fd, const std::string& name, Chunk* chunk) {
  // The buffer keeps its size between uses: growing a string writes zeros,
  // which would cost as much as reading, and maps fresh pages. Room for the
  // usual carry (a record's start) comes with it, so that buffers stop
  // growing after the first few.
  std::string& buffer = chunk->buffer;
  if (buffer.size() < chunk->carry + kChunkBytes) {
    buffer.resize(
        std::max(chunk->carry + kChunkBytes, kChunkBytes + kCarryRoom));
  }
  chunk->size = chunk->carry;
  chunk->eof = false;
  while (chunk->size < buffer.size()) {
    const ssize_t n =
        ::read(fd, buffer.data() + chunk->size, buffer.size() - chunk->size);
    if (n < 0) {
      if (errno == EINTR) continue;
      chunk->status = absl::DataLossError(
          absl::StrCat(name, ": cannot read: ", std::strerror(errno)));
      break;
    }
    if (n == 0) {
      chunk->eof = true;
      break;
    }
    chunk->size += static_cast<size_t>(n);
  }
}

void LeadBlockReader::Load(Chunk chunk, bool read) {
  pending_ = std::async(std::launch::async,
                        [this, read, chunk = std::move(chunk)]() mutable {
                          if (read) ReadChunk(fd_, name_, &chunk);
                          if (!chunk.status.ok()) return std::move(chunk);
                          if (format_ == LeadFormat::kCsv) {
                            SplitCsv(&chunk);
                          } else {
                            SplitJson(&chunk);
                          }
                          return std::move(chunk);
                        });
}

absl::StatusOr<bool> LeadBlockReader::Next(LeadBlock* block) {
  // The previous block is done with: its buffers receive the next read.
  Chunk spare;
  spare.buffer = std::move(block->data_);
  spare.records = std::move(block->records_);
  spare.cuts = std::move(block->cuts_);
  block->Reset();
  block->name_ = name_;
  block->header_ = header_;
  block->first_index_ = next_index_;
  for (;;) {
    if (!pending_.valid()) return false;
    Chunk chunk = pending_.get();
    done_bytes_ += static_cast<int64_t>(chunk.size - chunk.carry);
    if (!chunk.status.ok()) return chunk.status;
    if (!chunk.eof) {
      const size_t carry = chunk.size - chunk.end;
      if (spare.buffer.size() < carry) spare.buffer.resize(carry);
      std::memcpy(spare.buffer.data(), chunk.buffer.data() + chunk.end, carry);
      spare.carry = carry;
      spare.records.clear();
      spare.cuts.clear();
      spare.status = absl::OkStatus();
      Load(std::move(spare), /*read=*/true);
    }
    if (!chunk.records.empty()) {
      block->data_ = std::move(chunk.buffer);
      block->records_ = std::move(chunk.records);
      block->cuts_ = std::move(chunk.cuts);
      next_index_ += block->size();
      return true;
    }
    spare = std::move(chunk);
  }
}

void LeadBlockReader::SplitJson(Chunk* chunk) {
  std::vector<LeadBlock::Record>& records = chunk->records;
  auto add_error = [&](absl::Status status, int64_t line) {
    LeadBlock::Record& record = records.emplace_back();
    record.line = line;
    record.status = std::move(status);
  };
  const char* data = chunk->buffer.data();
  const size_t size = chunk->size;
  size_t begin = 0;
  if (skipping_) {
    const char* newline =
        static_cast<const char*>(std::memchr(data, '\n', size));
    if (newline == nullptr && !chunk->eof) {
      skipped_bytes_ += static_cast<int64_t>(size);
      chunk->end = size;
      return;
    }
    const size_t line_end = newline != nullptr ? newline - data : size;
    add_error(TooLong(name_, skipped_line_, skipped_bytes_ + line_end),
              skipped_line_);
    skipping_ = false;
    next_line_ = skipped_line_ + 1;
    begin = std::min(size, line_end + 1);
  }
  // Whole lines end at the last newline; at the end of the file the rest
  // is a line too.
  size_t end = size;
  if (!chunk->eof) {
    const void* last =
        size > begin ? ::memrchr(data + begin, '\n', size - begin) : nullptr;
    end = last != nullptr ? static_cast<const char*>(last) - data + 1 : begin;
  }
  for (size_t pos = begin; pos < end;) {
    const char* newline =
        static_cast<const char*>(std::memchr(data + pos, '\n', end - pos));
    const size_t line_end = newline != nullptr ? newline - data : end;
    const int64_t line = next_line_++;
    const absl::string_view text(data + pos, line_end - pos);
    if (text.size() > kMaxRecordBytes) {
      add_error(TooLong(name_, line, static_cast<int64_t>(text.size())), line);
    } else if (!absl::StripLeadingAsciiWhitespace(text).empty()) {
      LeadBlock::Record& record = records.emplace_back();
      record.line = line;
      record.offset = pos;
      record.size = text.size();
    }
    pos = line_end + 1;
  }
  chunk->end = end;
  if (!chunk->eof && size - end > kMaxRecordBytes) {
    // Nobody writes a lead that long: skip to the end of the line rather
    // than hold it.
    skipping_ = true;
    skipped_line_ = next_line_;
    skipped_bytes_ = static_cast<int64_t>(size - end);
    chunk->end = size;
  }
}

void LeadBlockReader::SplitCsv(Chunk* chunk) {
  std::vector<LeadBlock::Record>& records = chunk->records;
  std::vector<uint32_t>& cuts = chunk->cuts;
  const char* data = chunk->buffer.data();
  const size_t size = chunk->size;
  size_t pos = 0;
  while (pos < size) {
    const int64_t line = next_line_;
    int64_t lines = 0;
    const size_t first_cut = cuts.size();
    absl::StatusOr<size_t> n = ScanCsvRecord(
        absl::string_view(data + pos, size - pos), chunk->eof, &lines, &cuts);
    if (!n.ok()) {  // an unterminated quote: the rest of the file
      LeadBlock::Record& record = records.emplace_back();
      record.line = line;
      record.status = RecordError(name_, line, n.status().message());
      pos = size;
      break;
    }
    if (*n == 0) break;  // the record goes on in the next chunk
    next_line_ += lines;
    const absl::string_view text(data + pos, *n);
    if (text.size() > kMaxRecordBytes) {
      LeadBlock::Record& record = records.emplace_back();
      record.line = line;
      record.status = RecordError(name_, line, "record too long");
      cuts.resize(first_cut);
    } else if (!IsBlankCsvRecord(text)) {
      LeadBlock::Record& record = records.emplace_back();
      record.line = line;
      record.offset = pos;
      record.size = text.size();
      record.first_cut = static_cast<uint32_t>(first_cut);
      record.cut_count = static_cast<uint32_t>(cuts.size() - first_cut);
    } else {
      cuts.resize(first_cut);
    }
    pos += *n;
  }
  chunk->end = pos;
  if (!chunk->eof && size - pos > kMaxRecordBytes) {
    chunk->status = RecordError(name_, next_line_, "record too long");
  }
}

}  // namespace smarketing
