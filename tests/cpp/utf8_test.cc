#include "core/base/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace smarketing {
namespace {

// Short text is read in overlapping loads: a byte of 0x80 or more must be
// seen wherever it is, at every length around the loads' sizes.
TEST(Utf8Test, IsAsciiSeesAHighByteAnywhere) {
  for (size_t n = 0; n <= 40; ++n) {
    // Read from inside a longer buffer, so that bytes around the text,
    // which are not ASCII, must not count.
    std::string buffer(n + 32, '\x80');
    for (size_t i = 0; i < n; ++i) buffer[16 + i] = 'a';
    const absl::string_view text(buffer.data() + 16, n);
    EXPECT_TRUE(IsAscii(text)) << n;
    for (size_t at = 0; at < n; ++at) {
      for (const char high : {'\x80', '\xc3', '\xff'}) {
        buffer[16 + at] = high;
        EXPECT_FALSE(IsAscii(text)) << n << " at " << at;
        buffer[16 + at] = 'a';
      }
    }
  }
}

TEST(Utf8Test, IsUtf8TakesValidSequencesOnly) {
  for (const char* valid : {"", "a", "caf\xc3\xa9", "\xf0\x9f\x9a\x80 rocket",
                            "\xe2\x82\xac 0123456789abcdef"}) {
    EXPECT_TRUE(IsUtf8(valid)) << valid;
  }
  for (const char* invalid :
       {"\xc3", "caf\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80",
        "0123456789abcdef\xff", "\x80"}) {
    EXPECT_FALSE(IsUtf8(invalid)) << invalid;
  }
}

}  // namespace
}  // namespace smarketing
