// Reads a lead file in blocks of records so that parsing, the costly part,
// runs in parallel: one thread reads the bytes (the next block while the
// current one is being worked on) and finds where records end, every thread
// parses and scores its share of the block, JSON lines and CSV alike.
// Memory stays bounded by a few blocks whatever the file size.
//
// Formats and messages are those of LeadReader (lead_io.h): JSON lines in
// the protobuf JSON mapping, or CSV.
#ifndef SMARKETING_CORE_LEADS_LEAD_BLOCKS_H_
#define SMARKETING_CORE_LEADS_LEAD_BLOCKS_H_

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/leads/lead_io.h"
#include "core/leads/lead_json.h"
#include "google/protobuf/arena.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// One thread's readers for LeadBlock::ParseFlat.
struct FlatLeadReaders {
  FlatLeadJsonReader json;
  FlatLeadCsvReader csv;
};

// A run of consecutive records of a lead file.
class LeadBlock {
 public:
  int64_t size() const { return static_cast<int64_t>(records_.size()); }
  // Line where record i starts, 1-based.
  int64_t line(int64_t i) const { return records_[i].line; }
  // Position of record i in the whole file, 0-based, counting records that
  // could not be read.
  int64_t index(int64_t i) const { return first_index_ + i; }

  // Parses record i into `lead`; once per record. Safe to call from several
  // threads at once for different records. A malformed record is
  // INVALID_ARGUMENT naming the file and line, as LeadReader::Next.
  absl::Status Parse(int64_t i, v1::Lead* lead);
  // Reads record i with `readers` (FlatLeadJsonReader::Read or
  // FlatLeadCsvReader::Read): true when `flat` is ready to score, its
  // strings valid while this block and `readers` are unchanged. false for a
  // record to read with Parse.
  bool ParseFlat(int64_t i, FlatLeadReaders* readers, v1::Lead* fields,
                 FlatLead* flat) const;

 private:
  friend class LeadBlockReader;
  struct Record {
    int64_t line = 0;
    // The record's bytes in data_.
    size_t offset = 0;
    size_t size = 0;
    // CSV: the cells' ends ScanCsvRecord told, in cuts_; none when it did
    // not.
    uint32_t first_cut = 0;
    uint32_t cut_count = 0;
    // Not ok: an unreadable record.
    absl::Status status;
  };
  void Reset();

  std::string name_;
  // CSV: the columns; null for JSON lines.
  std::shared_ptr<const std::vector<CsvColumn>> header_;
  std::string data_;
  std::vector<Record> records_;
  std::vector<uint32_t> cuts_;
  int64_t first_index_ = 0;
};

// A lead to parse into, lead after lead, without allocating: its messages
// live in an arena that is reset for each lead. One per thread.
class ReusableLead {
 public:
  ReusableLead();
  ReusableLead(const ReusableLead&) = delete;
  ReusableLead& operator=(const ReusableLead&) = delete;

  // An empty lead, valid until the next call.
  v1::Lead* Fresh();

 private:
  std::unique_ptr<char[]> initial_block_;
  std::unique_ptr<google::protobuf::Arena> arena_;
};

class LeadBlockReader {
 public:
  // `path` "-" reads standard input; the format comes from the extension
  // (.csv, otherwise JSON lines) unless given.
  static absl::StatusOr<std::unique_ptr<LeadBlockReader>> Open(
      const std::string& path, std::optional<LeadFormat> format = std::nullopt);

  ~LeadBlockReader();

  // Fills `block` with the next records: true, or false at the end of the
  // file. An error (the file cannot be read) ends reading.
  absl::StatusOr<bool> Next(LeadBlock* block);

  // Share of the file handed out in blocks so far, in [0, 1]; negative when
  // unknown (standard input, a pipe).
  double fraction_done() const {
    return total_bytes_ > 0 ? static_cast<double>(done_bytes_) / total_bytes_
                            : -1;
  }

 private:
  LeadBlockReader() = default;
  // Bytes read into a buffer that is reused from block to block, so that
  // gigabytes stream through a few buffers, and the records found in them.
  // The reading thread fills a chunk and finds its records while the
  // workers score the block before: splitting CSV, a scan of every byte,
  // then costs no worker its time.
  struct Chunk {
    std::string buffer;
    size_t size = 0;   // bytes of `buffer` in use
    size_t carry = 0;  // of which carried over from the previous chunk
    bool eof = false;
    // Not ok: the file cannot be read, or a CSV record is too long to
    // carry; reading ends.
    absl::Status status;
    std::vector<LeadBlock::Record> records;
    std::vector<uint32_t> cuts;  // CSV: cells' ends, as LeadBlock::cuts_
    // Bytes of `buffer` done with (whole records, or a line being skipped);
    // the rest is carried into the next chunk.
    size_t end = 0;
  };
  // Fills `chunk->buffer` after its first `chunk->carry` bytes (the start
  // of a record that the previous chunk cut).
  static void ReadChunk(int fd, const std::string& name, Chunk* chunk);
  // On the reading thread, one chunk at a time: the records of `chunk`,
  // continuing the line count (and for JSON lines the skipping of a line
  // too long) of the chunk before.
  void SplitJson(Chunk* chunk);
  void SplitCsv(Chunk* chunk);
  // Reads (when `read`) and splits `chunk` on the reading thread, for the
  // next call of Next to take.
  void Load(Chunk chunk, bool read);
  absl::Status ReadCsvHeader();

  std::string name_;
  LeadFormat format_ = LeadFormat::kJsonLines;
  int fd_ = -1;
  bool close_fd_ = false;
  std::future<Chunk> pending_;
  int64_t total_bytes_ = -1;
  int64_t done_bytes_ = 0;
  int64_t next_index_ = 0;
  std::shared_ptr<const std::vector<CsvColumn>> header_;  // CSV, set by Open
  // After Open, only the chunk being loaded touches what follows.
  int64_t next_line_ = 1;
  // A record longer than kMaxRecordBytes is being skipped.
  bool skipping_ = false;
  int64_t skipped_line_ = 0;
  int64_t skipped_bytes_ = 0;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_LEADS_LEAD_BLOCKS_H_
