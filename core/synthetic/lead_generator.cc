#include "core/synthetic/lead_generator.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "smarketing/v1/event.pb.h"

// Outcomes use a little floating point; keep clang from fusing a*b+c into an
// FMA where the CPU has one, which would change low bits between platforms.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace smarketing {
namespace {

// --- Randomness: SplitMix64 and integer draws, identical everywhere. -------

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

constexpr uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Independent streams per purpose, so that e.g. changing how events are drawn
// does not reshuffle every company.
enum Stream : uint64_t {
  kLeadStream = 1,
  kCompanyStream = 2,
  kOutcomeStream = 3,
};

constexpr uint64_t StreamSeed(uint64_t seed, uint64_t stream, uint64_t key) {
  return Mix(Mix(seed + stream * kGolden) ^ (key * 0xd1b54a32d192ed03ULL + 1));
}

class Rng {
 public:
  explicit Rng(uint64_t state) : state_(state) {}
  uint64_t Next() { return Mix(state_ += kGolden); }
  // Uniform in [0, n) for n < 2^32, without division (Lemire's product; the
  // bias is below 2^-32).
  uint32_t Below(uint32_t n) {
    return static_cast<uint32_t>(((Next() >> 32) * n) >> 32);
  }
  // Uniform in [0, n) for n < 2^63, the same way: the high half of a
  // 64x64-bit product, spelled out since not every compiler has __int128.
  int64_t Below64(int64_t n) {
    const uint64_t a = Next();
    const uint64_t b = static_cast<uint64_t>(n);
    const uint64_t a_lo = a & 0xffffffff, a_hi = a >> 32;
    const uint64_t b_lo = b & 0xffffffff, b_hi = b >> 32;
    const uint64_t low = a_lo * b_lo;
    const uint64_t mid1 = a_hi * b_lo;
    const uint64_t mid2 = a_lo * b_hi;
    const uint64_t carry =
        ((low >> 32) + (mid1 & 0xffffffff) + (mid2 & 0xffffffff)) >> 32;
    return static_cast<int64_t>(a_hi * b_hi + (mid1 >> 32) + (mid2 >> 32) +
                                carry);
  }
  // True with probability bp / 10000.
  bool Chance(int64_t bp) { return Below(10000) < bp; }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

template <typename T, size_t N>
constexpr uint32_t TotalWeight(const T (&table)[N]) {
  uint32_t total = 0;
  for (const T& item : table) total += item.weight;
  return total;
}

// Entry of a weighted table for each r in [0, total): what a scan of the
// cumulative weights would find, without its unpredictable branches.
template <const auto& kTable>
struct WeightIndex {
  static_assert(std::size(kTable) <= 256);
  static constexpr uint32_t kTotal = TotalWeight(kTable);
  static constexpr std::array<uint8_t, kTotal> kEntry = [] {
    std::array<uint8_t, kTotal> entry{};
    size_t at = 0;
    for (size_t i = 0; i < std::size(kTable); ++i) {
      for (uint32_t w = 0; w < kTable[i].weight; ++w) {
        entry[at++] = static_cast<uint8_t>(i);
      }
    }
    return entry;
  }();
};

// An entry of a weighted table (items with a `weight`).
template <const auto& kTable>
const auto& Pick(Rng& rng) {
  using Index = WeightIndex<kTable>;
  return kTable[Index::kEntry[rng.Below(Index::kTotal)]];
}

template <typename T, size_t N>
const T& PickAny(Rng& rng, const T (&table)[N]) {
  return table[rng.Below(N)];
}

// 10^(j/32) in Q20 for j = 0..32: log-uniform draws by table interpolation,
// since libm's pow and exp may differ in their last bits between platforms.
constexpr int64_t kPow10Q20[33] = {
    1048576, 1126808, 1210877, 1301218, 1398299, 1502623, 1614730,
    1735201, 1864661, 2003779, 2153277, 2313928, 2486566, 2672083,
    2871441, 3085673, 3315888, 3563280, 3829128, 4114811, 4421808,
    4751710, 5106225, 5487189, 5896576, 6336507, 6809260, 7317284,
    7863211, 8449868, 9080294, 9757755, 10485760};

// 10^x in Q20 for x uniform in [lo, hi) decades, both in 1/32 decade; at
// most 6 decades so that the result fits.
int64_t LogUniformQ20(Rng& rng, int lo_x32, int hi_x32) {
  const int64_t e = (static_cast<int64_t>(lo_x32) << 16) +
                    rng.Below64(static_cast<int64_t>(hi_x32 - lo_x32) << 16);
  const int64_t step = e >> 16;
  const int64_t frac = e & 0xffff;
  int64_t decade = 1;
  for (int64_t d = step / 32; d > 0; --d) decade *= 10;
  const int64_t k = step % 32;
  const int64_t mantissa =
      kPow10Q20[k] + (((kPow10Q20[k + 1] - kPow10Q20[k]) * frac) >> 16);
  return decade * mantissa;
}

// e^x with only +, * and /, for bit-identical outcomes; |x| is clamped to
// 30, far beyond where the logistic it feeds saturates.
double Exp(double x) {
  x = std::clamp(x, -30.0, 30.0) / 1024;
  double term = 1, sum = 1;
  for (int i = 1; i <= 6; ++i) {
    term = term * x / i;
    sum += term;
  }
  for (int i = 0; i < 10; ++i) sum *= sum;
  return sum;
}

// A fixed buffer for building ids, names and e-mails without allocating;
// protobuf then copies the bytes into its (possibly reused) strings.
class Text {
 public:
  Text& operator<<(absl::string_view s) {
    const size_t n = std::min(s.size(), sizeof data_ - size_);
    std::memcpy(data_ + size_, s.data(), n);
    size_ += n;
    return *this;
  }
  Text& operator<<(char c) { return *this << absl::string_view(&c, 1); }
  Text& Number(uint64_t v, int min_digits = 1) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 || n < min_digits);
    while (n > 0) *this << digits[--n];
    return *this;
  }
  Text& Digits(Rng& rng, int count) {
    for (int i = 0; i < count; ++i)
      *this << static_cast<char>('0' + rng.Below(10));
    return *this;
  }
  size_t size() const { return size_; }
  void Truncate(size_t size) { size_ = std::min(size, size_); }
  const char* data() const { return data_; }
  absl::string_view view() const { return {data_, size_}; }
  operator absl::string_view() const { return view(); }

 private:
  char data_[200];
  size_t size_ = 0;
};

void Assign(std::string* out, absl::string_view value) {
  out->assign(value.data(), value.size());
}

// --- The synthetic world. --------------------------------------------------

struct Name {
  absl::string_view display;
  absl::string_view ascii;  // lower case, as it appears in e-mail addresses
};

struct NameGroup {
  std::span<const Name> first;
  std::span<const Name> last;
};

constexpr Name kFrFirst[] = {
    {"Camille", "camille"},   {"Léa", "lea"},         {"Hélène", "helene"},
    {"Julien", "julien"},     {"Thomas", "thomas"},   {"Chloé", "chloe"},
    {"Nicolas", "nicolas"},   {"Manon", "manon"},     {"Antoine", "antoine"},
    {"Inès", "ines"},         {"Mathieu", "mathieu"}, {"Sophie", "sophie"},
    {"Jean-Luc", "jean-luc"}, {"Élodie", "elodie"}};
constexpr Name kFrLast[] = {
    {"Martin", "martin"},     {"Bernard", "bernard"},
    {"Dubois", "dubois"},     {"Lefèvre", "lefevre"},
    {"Moreau", "moreau"},     {"Laurent", "laurent"},
    {"Girard", "girard"},     {"Rousseau", "rousseau"},
    {"Fontaine", "fontaine"}, {"Chevalier", "chevalier"},
    {"Garnier", "garnier"},   {"Faure", "faure"},
    {"Mercier", "mercier"},   {"Roux", "roux"}};
constexpr Name kDeFirst[] = {
    {"Lukas", "lukas"},           {"Anna", "anna"},
    {"Felix", "felix"},           {"Lena", "lena"},
    {"Jonas", "jonas"},           {"Sophia", "sophia"},
    {"Maximilian", "maximilian"}, {"Laura", "laura"},
    {"Jürgen", "juergen"},        {"Katharina", "katharina"},
    {"Niklas", "niklas"},         {"Jana", "jana"}};
constexpr Name kDeLast[] = {
    {"Müller", "mueller"},      {"Schmidt", "schmidt"},
    {"Schneider", "schneider"}, {"Fischer", "fischer"},
    {"Weber", "weber"},         {"Becker", "becker"},
    {"Wagner", "wagner"},       {"Hoffmann", "hoffmann"},
    {"Schäfer", "schaefer"},    {"Koch", "koch"},
    {"Richter", "richter"},     {"Wolf", "wolf"}};
constexpr Name kEnFirst[] = {
    {"James", "james"},     {"Olivia", "olivia"}, {"Emily", "emily"},
    {"Michael", "michael"}, {"Sarah", "sarah"},   {"David", "david"},
    {"Jessica", "jessica"}, {"Daniel", "daniel"}, {"Emma", "emma"},
    {"Ryan", "ryan"},       {"Hannah", "hannah"}, {"Chris", "chris"},
    {"Megan", "megan"},     {"Jordan", "jordan"}};
constexpr Name kEnLast[] = {
    {"Smith", "smith"},       {"Johnson", "johnson"}, {"Williams", "williams"},
    {"Brown", "brown"},       {"Taylor", "taylor"},   {"Davies", "davies"},
    {"Wilson", "wilson"},     {"Miller", "miller"},   {"O'Brien", "obrien"},
    {"Clarke", "clarke"},     {"Walker", "walker"},   {"Thompson", "thompson"},
    {"Anderson", "anderson"}, {"Harris", "harris"}};
constexpr Name kEsFirst[] = {
    {"Lucía", "lucia"},         {"Javier", "javier"},
    {"Carmen", "carmen"},       {"Alejandro", "alejandro"},
    {"Sofía", "sofia"},         {"Diego", "diego"},
    {"María", "maria"},         {"Pablo", "pablo"},
    {"Valentina", "valentina"}, {"Andrés", "andres"}};
constexpr Name kEsLast[] = {{"García", "garcia"},   {"Fernández", "fernandez"},
                            {"López", "lopez"},     {"Martínez", "martinez"},
                            {"Sánchez", "sanchez"}, {"Romero", "romero"},
                            {"Torres", "torres"},   {"Navarro", "navarro"},
                            {"Gómez", "gomez"},     {"Ruiz", "ruiz"}};
constexpr Name kItFirst[] = {
    {"Giulia", "giulia"}, {"Marco", "marco"},   {"Francesca", "francesca"},
    {"Luca", "luca"},     {"Chiara", "chiara"}, {"Alessandro", "alessandro"},
    {"Sara", "sara"},     {"Matteo", "matteo"}};
constexpr Name kItLast[] = {{"Rossi", "rossi"},     {"Russo", "russo"},
                            {"Ferrari", "ferrari"}, {"Esposito", "esposito"},
                            {"Bianchi", "bianchi"}, {"Romano", "romano"},
                            {"Colombo", "colombo"}, {"Ricci", "ricci"}};
constexpr Name kPtFirst[] = {{"João", "joao"},   {"Ana", "ana"},
                             {"Pedro", "pedro"}, {"Beatriz", "beatriz"},
                             {"Lucas", "lucas"}, {"Mariana", "mariana"}};
constexpr Name kPtLast[] = {{"Silva", "silva"},       {"Santos", "santos"},
                            {"Oliveira", "oliveira"}, {"Souza", "souza"},
                            {"Pereira", "pereira"},   {"Costa", "costa"}};
constexpr Name kNlFirst[] = {{"Daan", "daan"},     {"Sanne", "sanne"},
                             {"Bram", "bram"},     {"Lotte", "lotte"},
                             {"Jeroen", "jeroen"}, {"Eva", "eva"}};
constexpr Name kNlLast[] = {{"de Jong", "dejong"},   {"Jansen", "jansen"},
                            {"de Vries", "devries"}, {"van Dijk", "vandijk"},
                            {"Bakker", "bakker"},    {"Visser", "visser"}};
constexpr Name kNordicFirst[] = {{"Erik", "erik"},     {"Ingrid", "ingrid"},
                                 {"Lars", "lars"},     {"Astrid", "astrid"},
                                 {"Mikkel", "mikkel"}, {"Sofie", "sofie"}};
constexpr Name kNordicLast[] = {
    {"Johansson", "johansson"}, {"Nielsen", "nielsen"},
    {"Andersen", "andersen"},   {"Larsen", "larsen"},
    {"Lindqvist", "lindqvist"}, {"Hansen", "hansen"}};
constexpr Name kPlFirst[] = {{"Piotr", "piotr"},   {"Katarzyna", "katarzyna"},
                             {"Tomasz", "tomasz"}, {"Agnieszka", "agnieszka"},
                             {"Michał", "michal"}, {"Magdalena", "magdalena"}};
constexpr Name kPlLast[] = {
    {"Nowak", "nowak"},           {"Kowalczyk", "kowalczyk"},
    {"Wiśniewski", "wisniewski"}, {"Wójcik", "wojcik"},
    {"Kamiński", "kaminski"},     {"Lewandowski", "lewandowski"}};
constexpr Name kRuFirst[] = {{"Alexei", "alexei"},   {"Dmitry", "dmitry"},
                             {"Sergey", "sergey"},   {"Ivan", "ivan"},
                             {"Mikhail", "mikhail"}, {"Pavel", "pavel"}};
constexpr Name kRuLast[] = {{"Ivanov", "ivanov"},   {"Petrov", "petrov"},
                            {"Sokolov", "sokolov"}, {"Volkov", "volkov"},
                            {"Morozov", "morozov"}, {"Popov", "popov"}};
constexpr Name kJpFirst[] = {{"Hiroshi", "hiroshi"}, {"Yuki", "yuki"},
                             {"Kenji", "kenji"},     {"Aiko", "aiko"},
                             {"Haruto", "haruto"},   {"Sakura", "sakura"}};
constexpr Name kJpLast[] = {
    {"Tanaka", "tanaka"},     {"Sato", "sato"},
    {"Suzuki", "suzuki"},     {"Takahashi", "takahashi"},
    {"Watanabe", "watanabe"}, {"Nakamura", "nakamura"}};
constexpr Name kInFirst[] = {{"Priya", "priya"},   {"Arjun", "arjun"},
                             {"Rahul", "rahul"},   {"Ananya", "ananya"},
                             {"Vikram", "vikram"}, {"Sneha", "sneha"}};
constexpr Name kInLast[] = {{"Sharma", "sharma"}, {"Patel", "patel"},
                            {"Iyer", "iyer"},     {"Gupta", "gupta"},
                            {"Reddy", "reddy"},   {"Nair", "nair"}};
constexpr Name kSgFirst[] = {{"Wei Ling", "weiling"}, {"Jun Jie", "junjie"},
                             {"Hui Min", "huimin"},   {"Kai", "kai"},
                             {"Mei", "mei"},          {"Darren", "darren"}};
constexpr Name kSgLast[] = {{"Tan", "tan"},   {"Lim", "lim"}, {"Chen", "chen"},
                            {"Wong", "wong"}, {"Ng", "ng"},   {"Lee", "lee"}};

constexpr NameGroup kFrNames{kFrFirst, kFrLast};
constexpr NameGroup kDeNames{kDeFirst, kDeLast};
constexpr NameGroup kEnNames{kEnFirst, kEnLast};
constexpr NameGroup kEsNames{kEsFirst, kEsLast};
constexpr NameGroup kItNames{kItFirst, kItLast};
constexpr NameGroup kPtNames{kPtFirst, kPtLast};
constexpr NameGroup kNlNames{kNlFirst, kNlLast};
constexpr NameGroup kNordicNames{kNordicFirst, kNordicLast};
constexpr NameGroup kPlNames{kPlFirst, kPlLast};
constexpr NameGroup kRuNames{kRuFirst, kRuLast};
constexpr NameGroup kJpNames{kJpFirst, kJpLast};
constexpr NameGroup kInNames{kInFirst, kInLast};
constexpr NameGroup kSgNames{kSgFirst, kSgLast};

// Teams are international: this share of people carry names from anywhere.
constexpr int64_t kForeignNameBp = 2000;
constexpr const NameGroup* kAllNames[] = {
    &kFrNames, &kDeNames, &kEnNames, &kEnNames,     &kEsNames,
    &kItNames, &kPtNames, &kNlNames, &kNordicNames, &kPlNames,
    &kJpNames, &kInNames, &kSgNames};

enum class PhoneStyle : uint8_t { kFrench, kNorthAmerican, kGeneric };

struct Country {
  absl::string_view code;
  absl::string_view region;
  uint32_t weight;  // per mille of leads
  absl::string_view calling_code;
  absl::string_view tld;
  const NameGroup* names;
  absl::string_view legal[2];
  PhoneStyle phone;
  bool sanctioned = false;  // no sale is possible
};

// Weighted toward Acme's home markets. RU, BY, IR and CU are there because
// real forms receive them and the demo Playbook refuses them.
constexpr Country kCountries[] = {
    {"FR",
     "EMEA",
     150,
     "+33",
     ".fr",
     &kFrNames,
     {"SAS", "SA"},
     PhoneStyle::kFrench},
    {"DE",
     "EMEA",
     95,
     "+49",
     ".de",
     &kDeNames,
     {"GmbH", "AG"},
     PhoneStyle::kGeneric},
    {"GB",
     "EMEA",
     95,
     "+44",
     ".co.uk",
     &kEnNames,
     {"Ltd", "plc"},
     PhoneStyle::kGeneric},
    {"US",
     "NA",
     210,
     "+1",
     ".com",
     &kEnNames,
     {"Inc.", "LLC"},
     PhoneStyle::kNorthAmerican},
    {"CA",
     "NA",
     55,
     "+1",
     ".ca",
     &kEnNames,
     {"Inc.", "Ltd."},
     PhoneStyle::kNorthAmerican},
    {"ES",
     "EMEA",
     30,
     "+34",
     ".es",
     &kEsNames,
     {"S.L.", "S.A."},
     PhoneStyle::kGeneric},
    {"IT",
     "EMEA",
     28,
     "+39",
     ".it",
     &kItNames,
     {"S.r.l.", "S.p.A."},
     PhoneStyle::kGeneric},
    {"NL",
     "EMEA",
     28,
     "+31",
     ".nl",
     &kNlNames,
     {"B.V.", "N.V."},
     PhoneStyle::kGeneric},
    {"BE",
     "EMEA",
     18,
     "+32",
     ".be",
     &kFrNames,
     {"SA", "NV"},
     PhoneStyle::kGeneric},
    {"CH",
     "EMEA",
     18,
     "+41",
     ".ch",
     &kDeNames,
     {"AG", "SA"},
     PhoneStyle::kGeneric},
    {"SE",
     "EMEA",
     14,
     "+46",
     ".se",
     &kNordicNames,
     {"AB", "AB"},
     PhoneStyle::kGeneric},
    {"DK",
     "EMEA",
     8,
     "+45",
     ".dk",
     &kNordicNames,
     {"A/S", "ApS"},
     PhoneStyle::kGeneric},
    {"NO",
     "EMEA",
     6,
     "+47",
     ".no",
     &kNordicNames,
     {"AS", "ASA"},
     PhoneStyle::kGeneric},
    {"IE",
     "EMEA",
     10,
     "+353",
     ".ie",
     &kEnNames,
     {"Ltd", "DAC"},
     PhoneStyle::kGeneric},
    {"PL",
     "EMEA",
     10,
     "+48",
     ".pl",
     &kPlNames,
     {"sp. z o.o.", "S.A."},
     PhoneStyle::kGeneric},
    {"PT",
     "EMEA",
     8,
     "+351",
     ".pt",
     &kPtNames,
     {"Lda.", "S.A."},
     PhoneStyle::kGeneric},
    {"AE",
     "EMEA",
     8,
     "+971",
     ".ae",
     &kEnNames,
     {"LLC", "FZ-LLC"},
     PhoneStyle::kGeneric},
    {"ZA",
     "EMEA",
     6,
     "+27",
     ".co.za",
     &kEnNames,
     {"(Pty) Ltd", "Ltd"},
     PhoneStyle::kGeneric},
    {"IL",
     "EMEA",
     6,
     "+972",
     ".co.il",
     &kEnNames,
     {"Ltd", "Ltd"},
     PhoneStyle::kGeneric},
    {"AU",
     "APAC",
     20,
     "+61",
     ".com.au",
     &kEnNames,
     {"Pty Ltd", "Ltd"},
     PhoneStyle::kGeneric},
    {"NZ",
     "APAC",
     4,
     "+64",
     ".co.nz",
     &kEnNames,
     {"Ltd", "Limited"},
     PhoneStyle::kGeneric},
    {"SG",
     "APAC",
     12,
     "+65",
     ".sg",
     &kSgNames,
     {"Pte. Ltd.", "Pte. Ltd."},
     PhoneStyle::kGeneric},
    {"JP",
     "APAC",
     10,
     "+81",
     ".co.jp",
     &kJpNames,
     {"K.K.", "G.K."},
     PhoneStyle::kGeneric},
    {"IN",
     "APAC",
     18,
     "+91",
     ".in",
     &kInNames,
     {"Pvt. Ltd.", "Ltd."},
     PhoneStyle::kGeneric},
    {"BR",
     "LATAM",
     15,
     "+55",
     ".com.br",
     &kPtNames,
     {"Ltda.", "S.A."},
     PhoneStyle::kGeneric},
    {"MX",
     "LATAM",
     12,
     "+52",
     ".mx",
     &kEsNames,
     {"S.A. de C.V.", "S. de R.L."},
     PhoneStyle::kGeneric},
    {"AR",
     "LATAM",
     5,
     "+54",
     ".com.ar",
     &kEsNames,
     {"S.A.", "S.R.L."},
     PhoneStyle::kGeneric},
    {"CL",
     "LATAM",
     4,
     "+56",
     ".cl",
     &kEsNames,
     {"SpA", "S.A."},
     PhoneStyle::kGeneric},
    {"CO",
     "LATAM",
     4,
     "+57",
     ".co",
     &kEsNames,
     {"S.A.S.", "S.A."},
     PhoneStyle::kGeneric},
    {"RU",
     "EMEA",
     4,
     "+7",
     ".ru",
     &kRuNames,
     {"OOO", "AO"},
     PhoneStyle::kGeneric,
     true},
    {"BY",
     "EMEA",
     1,
     "+375",
     ".by",
     &kRuNames,
     {"OOO", "OAO"},
     PhoneStyle::kGeneric,
     true},
    {"IR",
     "EMEA",
     1,
     "+98",
     ".ir",
     &kEnNames,
     {"Co.", "Ltd"},
     PhoneStyle::kGeneric,
     true},
    {"CU",
     "LATAM",
     1,
     "+53",
     ".cu",
     &kEsNames,
     {"S.A.", "S.A."},
     PhoneStyle::kGeneric,
     true},
};

struct Industry {
  absl::string_view name;
  uint32_t weight;
  absl::string_view stems[3];    // company name endings
  int64_t revenue_per_employee;  // EUR, typical
  int fit_points;                // how much Acme's offer suits it, 0-15
};

constexpr Industry kIndustries[] = {
    {"software", 120, {"Software", "Labs", "Technologies"}, 180000, 15},
    {"saas", 100, {"Cloud", "Apps", "Platform"}, 200000, 15},
    {"fintech", 60, {"Pay", "Finance", "Capital"}, 250000, 15},
    {"ecommerce", 60, {"Shop", "Commerce", "Store"}, 220000, 15},
    {"marketing_agency", 50, {"Agency", "Digital", "Creative"}, 100000, 13},
    {"retail", 60, {"Retail", "Stores", "Market"}, 150000, 10},
    {"financial_services", 50, {"Bank", "Financial", "Partners"}, 300000, 10},
    {"insurance", 30, {"Insurance", "Assurance", "Mutual"}, 350000, 10},
    {"telecom", 20, {"Telecom", "Networks", "Mobile"}, 400000, 10},
    {"media", 30, {"Media", "Studios", "Publishing"}, 150000, 10},
    {"consumer_goods", 30, {"Brands", "Foods", "Goods"}, 250000, 10},
    {"cybersecurity", 20, {"Security", "Cyber", "Defense"}, 220000, 12},
    {"manufacturing", 60, {"Industries", "Manufacturing", "Works"}, 200000, 6},
    {"healthcare", 40, {"Health", "Medical", "Care"}, 120000, 6},
    {"education", 30, {"Learning", "Academy", "Education"}, 80000, 4},
    {"government", 20, {"Agency", "Public Services", "Authority"}, 0, 2},
    {"consulting", 40, {"Consulting", "Advisory", "Partners"}, 150000, 8},
    {"logistics", 30, {"Logistics", "Freight", "Transport"}, 180000, 6},
    {"travel", 20, {"Travel", "Voyages", "Trips"}, 160000, 8},
    {"real_estate", 20, {"Properties", "Real Estate", "Homes"}, 250000, 5},
    {"automotive", 20, {"Motors", "Automotive", "Mobility"}, 300000, 6},
    {"energy", 20, {"Energy", "Power", "Renewables"}, 500000, 5},
    {"pharma", 20, {"Pharma", "Biotech", "Therapeutics"}, 350000, 6},
    {"nonprofit", 15, {"Foundation", "Association", "Trust"}, 60000, 3},
    {"hospitality", 20, {"Hotels", "Hospitality", "Resorts"}, 70000, 6},
    {"gaming", 15, {"Games", "Interactive", "Play"}, 250000, 10},
    {"gambling", 5, {"Bet", "Casino", "Gaming"}, 300000, 0},
};

struct Department {
  absl::string_view name;
  uint32_t weight;  // among people below C-level
  int fit_points;   // 0-30: how close to Acme's buyers
  // Titles by Seniority value (0, unknown, reads as a junior title).
  absl::string_view titles[7][2];
};

constexpr int kExecutive = 10;  // index in kDepartments
constexpr Department kDepartments[] = {
    {"marketing",
     380,
     30,
     {{"Marketing Coordinator", "Growth Marketer"},
      {"Marketing Specialist", "Digital Marketing Analyst"},
      {"Marketing Manager", "Demand Generation Manager"},
      {"Director of Marketing", "Head of Growth"},
      {"VP Marketing", "VP Demand Generation"},
      {"Chief Marketing Officer", "CMO"},
      {"Founder", "Co-founder"}}},
    {"sales",
     100,
     18,
     {{"Sales Representative", "Business Developer"},
      {"Account Executive", "Sales Development Representative"},
      {"Sales Manager", "Regional Sales Manager"},
      {"Director of Sales", "Head of Sales"},
      {"VP Sales", "VP Commercial"},
      {"Chief Sales Officer", "Chief Commercial Officer"},
      {"Founder", "Co-founder"}}},
    {"revenue_operations",
     80,
     28,
     {{"Operations Analyst", "CRM Administrator"},
      {"Revenue Operations Analyst", "Marketing Operations Specialist"},
      {"RevOps Manager", "Marketing Operations Manager"},
      {"Head of Revenue Operations", "Director of Revenue Operations"},
      {"VP Revenue Operations", "VP Go-to-Market Operations"},
      {"Chief Revenue Officer", "CRO"},
      {"Founder", "Co-founder"}}},
    {"data",
     90,
     24,
     {{"Data Analyst", "BI Developer"},
      {"Data Analyst", "Analytics Engineer"},
      {"Analytics Manager", "BI Manager"},
      {"Head of Data", "Director of Analytics"},
      {"VP Data", "VP Analytics"},
      {"Chief Data Officer", "Chief Analytics Officer"},
      {"Founder", "Co-founder"}}},
    {"it",
     90,
     14,
     {{"IT Specialist", "Developer"},
      {"Software Engineer", "Systems Administrator"},
      {"IT Manager", "Engineering Manager"},
      {"Director of IT", "Head of Engineering"},
      {"VP Engineering", "VP IT"},
      {"Chief Technology Officer", "Chief Information Officer"},
      {"Founder", "Co-founder"}}},
    {"product",
     70,
     15,
     {{"Product Owner", "Product Analyst"},
      {"Product Manager", "Product Analyst"},
      {"Group Product Manager", "Product Marketing Manager"},
      {"Director of Product", "Head of Product"},
      {"VP Product", "VP Product Management"},
      {"Chief Product Officer", "CPO"},
      {"Founder", "Co-founder"}}},
    {"finance",
     40,
     8,
     {{"Accountant", "Controller"},
      {"Financial Analyst", "Accountant"},
      {"Finance Manager", "FP&A Manager"},
      {"Finance Director", "Head of Finance"},
      {"VP Finance", "VP Financial Planning"},
      {"Chief Financial Officer", "CFO"},
      {"Founder", "Co-founder"}}},
    {"customer_success",
     40,
     8,
     {{"Support Agent", "Customer Success Associate"},
      {"Customer Success Manager", "Support Specialist"},
      {"Customer Success Team Lead", "Support Manager"},
      {"Director of Customer Success", "Head of Customer Experience"},
      {"VP Customer Success", "VP Customer Experience"},
      {"Chief Customer Officer", "Chief Experience Officer"},
      {"Founder", "Co-founder"}}},
    {"operations",
     50,
     8,
     {{"Operations Assistant", "Project Coordinator"},
      {"Operations Analyst", "Project Coordinator"},
      {"Operations Manager", "Project Manager"},
      {"Director of Operations", "Head of Operations"},
      {"VP Operations", "VP Business Operations"},
      {"Chief Operating Officer", "COO"},
      {"Founder", "Co-founder"}}},
    {"hr",
     20,
     3,
     {{"HR Assistant", "Recruiter"},
      {"HR Specialist", "Talent Acquisition Partner"},
      {"HR Manager", "Recruiting Manager"},
      {"HR Director", "Head of People"},
      {"VP People", "VP Human Resources"},
      {"Chief People Officer", "Chief Human Resources Officer"},
      {"Founder", "Co-founder"}}},
    {"executive",
     0,
     20,
     {{"Executive Assistant", "Chief of Staff"},
      {"Executive Assistant", "Chief of Staff"},
      {"Office Manager", "Chief of Staff"},
      {"Managing Director", "General Manager"},
      {"Executive Vice President", "SVP Strategy"},
      {"Chief Executive Officer", "CEO"},
      {"Founder & CEO", "Co-founder"}}},
};

// Fit points (0-30) by Seniority value.
constexpr int kSeniorityFit[7] = {8, 8, 18, 27, 30, 25, 20};

struct SeniorityWeight {
  v1::Seniority seniority;
  uint32_t weight;
};
// Small companies are run by founders; large ones have layers.
constexpr SeniorityWeight kSenioritySmall[] = {
    {v1::SENIORITY_INDIVIDUAL_CONTRIBUTOR, 20},
    {v1::SENIORITY_MANAGER, 10},
    {v1::SENIORITY_DIRECTOR, 5},
    {v1::SENIORITY_VP, 2},
    {v1::SENIORITY_C_LEVEL, 25},
    {v1::SENIORITY_OWNER, 38}};
constexpr SeniorityWeight kSeniorityMid[] = {
    {v1::SENIORITY_INDIVIDUAL_CONTRIBUTOR, 30},
    {v1::SENIORITY_MANAGER, 27},
    {v1::SENIORITY_DIRECTOR, 18},
    {v1::SENIORITY_VP, 8},
    {v1::SENIORITY_C_LEVEL, 9},
    {v1::SENIORITY_OWNER, 8}};
constexpr SeniorityWeight kSeniorityLarge[] = {
    {v1::SENIORITY_INDIVIDUAL_CONTRIBUTOR, 34},
    {v1::SENIORITY_MANAGER, 30},
    {v1::SENIORITY_DIRECTOR, 20},
    {v1::SENIORITY_VP, 9},
    {v1::SENIORITY_C_LEVEL, 5},
    {v1::SENIORITY_OWNER, 2}};
constexpr SeniorityWeight kSeniorityEnterprise[] = {
    {v1::SENIORITY_INDIVIDUAL_CONTRIBUTOR, 36},
    {v1::SENIORITY_MANAGER, 32},
    {v1::SENIORITY_DIRECTOR, 20},
    {v1::SENIORITY_VP, 9},
    {v1::SENIORITY_C_LEVEL, 3}};

struct Choice {
  absl::string_view text;
  uint32_t weight;
};

// Syllables of invented brand names: two-letter pairs, so that different
// company numbers never spell the same brand.
constexpr char kConsonants[] = "bdfgklmnprstvz";
constexpr char kVowels[] = "aeiou";
constexpr int kSyllables = (sizeof kConsonants - 1) * (sizeof kVowels - 1);
constexpr int64_t kCompanies = 100000;  // distinct companies in the world

struct FixedCompany {
  absl::string_view name;
  absl::string_view domain;
  absl::string_view email_domain;
  absl::string_view country;
  absl::string_view region;
  absl::string_view industry;
  int64_t employees;
};

// Acme's competitors, whose staff download its content to watch it; the demo
// Playbook disqualifies their domains.
constexpr FixedCompany kCompetitors[] = {
    {"Mixpanel", "mixpanel.com", "mixpanel.com", "US", "NA", "software", 400},
    {"Amplitude", "amplitude.com", "amplitude.com", "US", "NA", "software",
     700},
    {"Heap", "heap.io", "heap.io", "US", "NA", "software", 300},
    {"Contentsquare", "contentsquare.com", "contentsquare.com", "FR", "EMEA",
     "software", 1500},
    {"Piwik PRO", "piwik.pro", "piwik.pro", "PL", "EMEA", "software", 200},
    {"Dreamdata", "dreamdata.io", "dreamdata.io", "DK", "EMEA", "software", 80},
};

constexpr FixedCompany kUniversities[] = {
    {"Université Paris-Saclay", "universite-paris-saclay.fr",
     "etu.universite-paris-saclay.fr", "FR", "EMEA", "education", 9000},
    {"HEC Paris", "hec.edu", "hec.edu", "FR", "EMEA", "education", 1100},
    {"Technische Universität München", "tum.de", "mytum.de", "DE", "EMEA",
     "education", 11000},
    {"University of Manchester", "manchester.ac.uk", "student.manchester.ac.uk",
     "GB", "EMEA", "education", 12000},
    {"Boston University", "bu.edu", "bu.edu", "US", "NA", "education", 10000},
    {"University of Toronto", "utoronto.ca", "mail.utoronto.ca", "CA", "NA",
     "education", 21000},
};

constexpr absl::string_view kStudentTitles[] = {
    "Student",          "Master's Student", "MBA Candidate",
    "Marketing Intern", "PhD Student",      "Stagiaire marketing"};

struct FakeIdentity {
  absl::string_view first, last, email, company, domain;
};
// What people type into forms to get past them.
constexpr FakeIdentity kFakes[] = {
    {"Test", "Test", "test@test.com", "Test", "test.com"},
    {"asdf", "asdf", "asdf@asdf.com", "asdf", "asdf.com"},
    {"John", "Test", "fake123@example.com", "N/A", "example.com"},
    {"Mickey", "Mouse", "mickey@example.org", "Disney", "example.org"},
};

constexpr Choice kPersonalDomains[] = {{"gmail.com", 60},
                                       {"yahoo.com", 20},
                                       {"hotmail.com", 10},
                                       {"outlook.com", 10}};

// Products of the demo Playbook; enterprise-suite sells to large accounts.
constexpr Choice kProductsSmall[] = {
    {"insights", 55}, {"attribution", 40}, {"enterprise-suite", 5}};
constexpr Choice kProductsLarge[] = {
    {"insights", 35}, {"attribution", 25}, {"enterprise-suite", 40}};

struct Source {
  absl::string_view name;
  uint32_t weight;
  absl::string_view campaigns[3];  // empty: none
  int lead_magnet_bp;  // chance that a lead magnet captured the lead
};

constexpr Source kSources[] = {
    {"organic_search", 180, {"seo-always-on", "", "seo-always-on"}, 3000},
    {"paid_search",
     140,
     {"2026-q4-google-ads-brand", "2026-q4-google-ads-attribution",
      "2026-q3-google-ads-competitors"},
     2000},
    {"paid_social",
     120,
     {"2026-q4-linkedin-abm-enterprise", "2026-10-linkedin-lead-gen-benchmarks",
      "2026-q4-linkedin-abm-enterprise"},
     6000},
    {"webinar",
     90,
     {"2026-10-webinar-attribution-101", "2026-11-webinar-pipeline-analytics",
      "2026-09-webinar-dashboard-masterclass"},
     0},
    {"content_syndication",
     80,
     {"2026-q4-syndication-state-of-analytics",
      "2026-q3-syndication-benchmarks",
      "2026-q4-syndication-state-of-analytics"},
     10000},
    {"event",
     60,
     {"2026-10-paris-martech-summit", "2026-09-dmexco-cologne",
      "2026-11-london-b2b-marketing-expo"},
     0},
    {"partner",
     60,
     {"partner-hubspot-marketplace", "partner-agency-network",
      "partner-snowflake-marketplace"},
     0},
    {"referral",
     50,
     {"customer-referral-program", "customer-referral-program", ""},
     0},
    {"direct", 80, {"", "", ""}, 0},
    {"email",
     60,
     {"2026-q4-newsletter", "2026-11-nurture-reactivation",
      "2026-q4-newsletter"},
     2000},
    {"review_site",
     40,
     {"g2-category-page", "capterra-listing", "g2-category-page"},
     0},
    {"outbound",
     40,
     {"2026-q4-sdr-outbound-emea", "2026-q4-sdr-outbound-na", ""},
     0},
};

constexpr absl::string_view kLeadMagnets[] = {
    "ebook-state-of-marketing-analytics-2026",
    "whitepaper-multi-touch-attribution", "report-b2b-benchmarks-2026",
    "template-roi-calculator", "checklist-gdpr-analytics"};

constexpr Choice kPlans[] = {
    {"none", 55}, {"free", 25}, {"trial", 12}, {"starter", 8}};
constexpr Choice kCrms[] = {{"salesforce", 35}, {"hubspot", 30},
                            {"pipedrive", 10},  {"dynamics365", 8},
                            {"zoho", 5},        {"none", 12}};
constexpr Choice kWarehouses[] = {{"snowflake", 25},
                                  {"bigquery", 25},
                                  {"redshift", 12},
                                  {"databricks", 8},
                                  {"", 30}};
constexpr Choice kAutomation[] = {{"marketo", 20},   {"pardot", 15},
                                  {"hubspot", 25},   {"brevo", 10},
                                  {"mailchimp", 10}, {"", 20}};
constexpr Choice kBiTools[] = {
    {"looker", 20}, {"tableau", 25}, {"power_bi", 25}, {"", 30}};

// --- Events. ---------------------------------------------------------------

struct EventWeight {
  v1::EventType type;
  uint32_t weight;
};
// Everyday signals; hand-raisers, trials, unsubscribes and bounces are
// decided per lead so that they stay rare and coherent.
constexpr EventWeight kAmbientEvents[] = {
    {v1::EVENT_TYPE_EMAIL_OPEN, 36},
    {v1::EVENT_TYPE_EMAIL_CLICK, 11},
    {v1::EVENT_TYPE_PAGE_VIEW, 36},
    {v1::EVENT_TYPE_CONTENT_DOWNLOAD, 6},
    {v1::EVENT_TYPE_WEBINAR_REGISTRATION, 4},
    {v1::EVENT_TYPE_WEBINAR_ATTENDANCE, 3},
    {v1::EVENT_TYPE_FORM_SUBMISSION, 4},
};

constexpr Choice kBuyingPages[] = {{"/pricing", 30},
                                   {"/pricing/enterprise", 8},
                                   {"/product/attribution", 12},
                                   {"/product/insights", 12},
                                   {"/product/enterprise-suite", 6},
                                   {"/integrations/salesforce", 6},
                                   {"/integrations/hubspot", 6},
                                   {"/customers", 8},
                                   {"/compare/acme-vs-mixpanel", 5},
                                   {"/security", 4},
                                   {"/demo", 3}};
constexpr Choice kResearchPages[] = {
    {"/", 20},
    {"/blog/multi-touch-attribution-guide", 10},
    {"/blog/marketing-mix-modeling-101", 8},
    {"/blog/b2b-funnel-benchmarks-2026", 8},
    {"/blog/gdpr-compliant-analytics", 5},
    {"/docs/getting-started", 8},
    {"/docs/api/events", 5},
    {"/docs/integrations/snowflake", 4},
    {"/resources/webinars", 5},
    {"/about", 4},
    {"/careers", 4},
    {"/careers/senior-data-engineer", 3},
    {"/pricing", 6}};
constexpr Choice kEmails[] = {
    {"newsletter-2026-10", 20},     {"newsletter-2026-11", 20},
    {"nurture-attribution-01", 12}, {"nurture-attribution-02", 10},
    {"nurture-attribution-03", 8},  {"webinar-invite-pipeline-analytics", 12},
    {"product-update-q4", 10},      {"event-invite-paris-summit", 8}};
constexpr Choice kAssets[] = {
    {"ebook-state-of-marketing-analytics-2026.pdf", 30},
    {"whitepaper-multi-touch-attribution.pdf", 20},
    {"report-b2b-benchmarks-2026.pdf", 20},
    {"template-roi-calculator.xlsx", 15},
    {"checklist-gdpr-analytics.pdf", 15}};
constexpr absl::string_view kWebinars[] = {"2026-09-dashboard-masterclass",
                                           "2026-10-attribution-101",
                                           "2026-11-pipeline-analytics-live"};
constexpr Choice kForms[] = {{"newsletter", 45},
                             {"event-registration", 20},
                             {"roi-calculator", 15},
                             {"contact", 20}};
constexpr Choice kSalesTopics[] = {
    {"pricing", 40}, {"enterprise", 25}, {"partnership", 15}, {"support", 20}};
constexpr Choice kTrialActions[] = {{"trial_activated", 35},
                                    {"dashboard_created", 25},
                                    {"integration_connected", 25},
                                    {"dashboard_shared", 15}};
constexpr absl::string_view kIntegrations[] = {"salesforce", "hubspot",
                                               "snowflake", "bigquery"};

constexpr int64_t kDayMs = 86400000;
constexpr int64_t kWindowMs = 120 * kDayMs;

// Shares of leads, in basis points.
constexpr int64_t kCompetitorBp = 60;
constexpr int64_t kStudentBp = 90;
constexpr int64_t kFakeBp = 40;
constexpr int64_t kMissingCountryBp = 100;
constexpr int64_t kUnknownSizeBp = 500;
constexpr int64_t kMicroCompanyBp = 400;
constexpr int64_t kUnknownRevenueBp = 1200;
constexpr int64_t kUnknownSeniorityBp = 300;
constexpr int64_t kUnknownDepartmentBp = 300;
constexpr int64_t kPersonalEmailBp = 1000;
constexpr int64_t kPhoneBp = 7500;
constexpr int64_t kOptedOutBp = 300;
constexpr int64_t kDoNotEmailBp = 250;
constexpr int64_t kDoNotCallBp = 500;
constexpr int64_t kNoProductBp = 300;
constexpr int64_t kRetryBp = 200;

// --- Derived signals shared by Generate and OutcomeOf. ---------------------

const Department* FindDepartment(absl::string_view name) {
  for (const Department& d : kDepartments) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const Industry* FindIndustry(absl::string_view name) {
  for (const Industry& i : kIndustries) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

int SizeFit(int64_t employees) {
  if (employees <= 0) return 10;
  if (employees < 10) return 3;
  if (employees < 50) return 12;
  if (employees < 1000) return 25;
  if (employees < 5000) return 22;
  return 16;
}

// How well the person matches Acme's buyers, 0-100: the hidden truth that
// drives behaviour and outcomes. The demo Playbook approximates it, on
// purpose imperfectly, so that notebooks have something to tune.
int TrueFit(const v1::Lead& lead) {
  const int seniority = lead.seniority();
  int fit = kSeniorityFit[seniority >= 0 && seniority < 7 ? seniority : 0];
  const Department* department = FindDepartment(lead.department());
  fit += department != nullptr ? department->fit_points : 8;
  fit += SizeFit(lead.company().employee_count());
  const Industry* industry = FindIndustry(lead.company().industry());
  fit += industry != nullptr ? industry->fit_points : 4;
  return fit;
}

const Country* FindCountry(absl::string_view code) {
  for (const Country& c : kCountries) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

// People Acme can never sell to, whatever they do: competitors, fakes,
// students, and companies in sanctioned countries.
bool NeverBuys(const v1::Lead& lead) {
  const absl::string_view domain = lead.company().domain();
  for (const FixedCompany& c : kCompetitors) {
    if (c.domain == domain) return true;
  }
  for (const FakeIdentity& f : kFakes) {
    if (f.domain == domain) return true;
  }
  for (const absl::string_view title : kStudentTitles) {
    if (title == lead.job_title()) return true;
  }
  const Country* country = FindCountry(lead.company().country());
  return country != nullptr && country->sanctioned;
}

// --- Building the lead. ----------------------------------------------------

struct CompanyFacts {
  const Country* country = nullptr;  // null when unknown
  const Industry* industry = nullptr;
  int64_t employees = 0;
};

void SetTimestamp(int64_t ms, google::protobuf::Timestamp* out) {
  int64_t seconds = ms / 1000;
  int64_t millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(millis * 1000000));
}

void SetCompanyLocation(const Country* country, v1::Company* company) {
  if (country == nullptr) return;
  Assign(company->mutable_country(), country->code);
  Assign(company->mutable_region(), country->region);
}

// Company number `number` of the world: the same for every lead there.
CompanyFacts MakeCompany(uint64_t seed, int64_t number, v1::Company* company) {
  Rng rng(StreamSeed(seed, kCompanyStream, static_cast<uint64_t>(number)));
  CompanyFacts facts;
  facts.industry = &Pick<kIndustries>(rng);
  if (!rng.Chance(kMissingCountryBp)) facts.country = &Pick<kCountries>(rng);

  // Log-uniform over 1..100000, with micro companies (under 10) rarer than
  // that would make them: few of them fill in B2B forms.
  if (rng.Chance(kUnknownSizeBp)) {
    facts.employees = 0;
  } else if (rng.Chance(kMicroCompanyBp)) {
    facts.employees = LogUniformQ20(rng, 0, 32) >> 20;
  } else {
    facts.employees = LogUniformQ20(rng, 32, 160) >> 20;
  }
  company->set_employee_count(facts.employees);
  if (facts.employees > 0 && facts.industry->revenue_per_employee > 0 &&
      !rng.Chance(kUnknownRevenueBp)) {
    // Revenue per employee varies by a factor 0.5-2 around the industry's.
    const int64_t factor_q20 = LogUniformQ20(rng, 22, 42) / 10;
    const int64_t revenue =
        ((facts.employees * facts.industry->revenue_per_employee) >> 10) *
            factor_q20 >>
        10;
    company->set_annual_revenue(static_cast<double>(revenue / 1000 * 1000));
  }

  // Brand: two syllables for the first companies, three for the rest.
  Text brand;
  int64_t rest = number;
  const int syllables = rest < kSyllables * kSyllables ? 2 : 3;
  if (syllables == 3) rest -= kSyllables * kSyllables;
  for (int i = 0; i < syllables; ++i) {
    const int s = static_cast<int>(rest % kSyllables);
    rest /= kSyllables;
    brand << kConsonants[s / 5] << kVowels[s % 5];
  }
  Text name;
  name << static_cast<char>(brand.data()[0] - 'a' + 'A')
       << brand.view().substr(1) << ' ' << PickAny(rng, facts.industry->stems);
  if (facts.country != nullptr && rng.Chance(6000)) {
    name << ' ' << facts.country->legal[rng.Below(2)];
  }
  Assign(company->mutable_name(), name);

  Text domain;
  domain << brand.view();
  if (facts.country == nullptr || facts.country->code == "US" ||
      rng.Chance(4000)) {
    const bool tech =
        facts.industry->name == "software" || facts.industry->name == "saas";
    domain << (tech && rng.Chance(3000) ? ".io" : ".com");
  } else {
    domain << facts.country->tld;
  }
  Assign(company->mutable_domain(), domain);
  Assign(company->mutable_industry(), facts.industry->name);
  SetCompanyLocation(facts.country, company);
  return facts;
}

void SetFixedCompany(const FixedCompany& fixed, v1::Company* company) {
  Assign(company->mutable_name(), fixed.name);
  Assign(company->mutable_domain(), fixed.domain);
  Assign(company->mutable_industry(), fixed.industry);
  company->set_employee_count(fixed.employees);
  Assign(company->mutable_country(), fixed.country);
  Assign(company->mutable_region(), fixed.region);
}

v1::Seniority PickSeniority(Rng& rng, int64_t employees) {
  if (rng.Chance(kUnknownSeniorityBp)) return v1::SENIORITY_UNSPECIFIED;
  if (employees > 0 && employees < 10)
    return Pick<kSenioritySmall>(rng).seniority;
  if (employees > 0 && employees < 200)
    return Pick<kSeniorityMid>(rng).seniority;
  if (employees > 0 && employees < 5000)
    return Pick<kSeniorityLarge>(rng).seniority;
  return Pick<kSeniorityEnterprise>(rng).seniority;
}

void SetPhone(Rng& rng, const Country& country, v1::Contact* contact) {
  Text phone;
  phone << country.calling_code << ' ';
  switch (country.phone) {
    case PhoneStyle::kFrench:
      phone << static_cast<char>('1' + rng.Below(7));
      for (int i = 0; i < 4; ++i) {
        phone << ' ';
        phone.Digits(rng, 2);
      }
      break;
    case PhoneStyle::kNorthAmerican:
      phone.Number(201 + rng.Below(780)) << '-';
      phone.Number(200 + rng.Below(800)) << '-';
      phone.Digits(rng, 4);
      break;
    case PhoneStyle::kGeneric:
      phone.Digits(rng, 2) << ' ';
      phone.Digits(rng, 4) << ' ';
      phone.Digits(rng, 4);
      break;
  }
  Assign(contact->mutable_phone(), phone);
}

void SetEmail(Rng& rng, const Name& first, const Name& last,
              absl::string_view domain, bool personal, v1::Contact* contact) {
  Text email;
  if (personal) {
    email << first.ascii << '.' << last.ascii;
    if (rng.Chance(5000)) email.Number(rng.Below(100), 2);
    email << '@' << Pick<kPersonalDomains>(rng).text;
  } else {
    switch (rng.Below(10)) {
      case 0:
        email << first.ascii;
        break;
      case 1:
        email << first.ascii << last.ascii;
        break;
      case 2:
      case 3:
        email << first.ascii.substr(0, 1) << '.' << last.ascii;
        break;
      case 4:
        email << first.ascii.substr(0, 1) << last.ascii;
        break;
      default:
        email << first.ascii << '.' << last.ascii;
    }
    email << '@' << domain;
  }
  Assign(contact->mutable_email(), email);
}

// One entry of a Struct: text, or a number when is_number.
struct Entry {
  absl::string_view key;
  absl::string_view text;
  double number = 0;
  bool is_number = false;
};

// Kept messages must not carry what a caller's Lead held beyond its fields.
template <typename Message>
void DropUnknownFields(Message* message) {
  // Looking the reflection up per call would cost more than the check.
  static const google::protobuf::Reflection* const reflection =
      Message::GetReflection();
  if (!reflection->GetUnknownFields(*message).empty()) {
    reflection->MutableUnknownFields(message)->Clear();
  }
}

void SetValue(const Entry& entry, google::protobuf::Value* value) {
  DropUnknownFields(value);
  if (entry.is_number) {
    value->set_number_value(entry.number);
  } else {
    Assign(value->mutable_string_value(), entry.text);
  }
}

// Makes `s` hold exactly these entries, keeping the map entries (and their
// buffers) of the keys it already had: a reused Lead's maps mostly do.
void SetStruct(const Entry* entries, size_t count,
               google::protobuf::Struct* s) {
  DropUnknownFields(s);
  auto& fields = *s->mutable_fields();
  if (count == 1 && fields.size() == 1 &&
      fields.begin()->first == entries[0].key) {
    SetValue(entries[0], &fields.begin()->second);
    return;
  }
  for (auto it = fields.begin(); it != fields.end();) {
    bool wanted = false;
    for (size_t i = 0; i < count; ++i)
      wanted = wanted || entries[i].key == it->first;
    it = wanted ? std::next(it) : fields.erase(it);
  }
  for (size_t i = 0; i < count; ++i) {
    SetValue(entries[i], &fields[std::string(entries[i].key)]);
  }
}

void SetProperties(google::protobuf::Struct* s,
                   std::initializer_list<Entry> properties) {
  SetStruct(properties.begin(), properties.size(), s);
}

// Clears *lead, except that a Lead on the heap keeps its sub-messages and
// events for reuse (allocating and freeing them would cost more than
// generating), and its attributes until SetStruct replaces them.
void ResetLead(v1::Lead* lead) {
  if (lead->GetArena() != nullptr) {
    lead->Clear();
    return;
  }
  std::unique_ptr<v1::Contact> contact(lead->release_contact());
  std::unique_ptr<v1::Company> company(lead->release_company());
  std::unique_ptr<v1::Consent> consent(lead->release_consent());
  std::unique_ptr<google::protobuf::Struct> attributes(
      lead->release_attributes());
  std::unique_ptr<google::protobuf::Timestamp> created_at(
      lead->release_created_at());
  google::protobuf::RepeatedPtrField<v1::Event> events;
  events.Swap(lead->mutable_events());
  lead->Clear();  // and so whatever else a newer schema added
  lead->mutable_events()->Swap(&events);
  if (contact != nullptr) {
    contact->Clear();
    lead->set_allocated_contact(contact.release());
  }
  if (company != nullptr) {
    company->Clear();
    lead->set_allocated_company(company.release());
  }
  if (consent != nullptr) {
    consent->Clear();
    lead->set_allocated_consent(consent.release());
  }
  if (attributes != nullptr)
    lead->set_allocated_attributes(attributes.release());
  if (created_at != nullptr) {
    created_at->Clear();
    lead->set_allocated_created_at(created_at.release());
  }
}

// Events that heap Leads no longer needed, kept for the next leads that this
// thread generates; bounded so that one huge lead does not pin memory.
constexpr size_t kMaxSpareEvents = 256;
thread_local std::vector<std::unique_ptr<v1::Event>> spare_events;

// Event types whose properties have the same keys.
int PropertyClass(v1::EventType type) {
  switch (type) {
    case v1::EVENT_TYPE_EMAIL_CLICK:
      return v1::EVENT_TYPE_PAGE_VIEW;
    case v1::EVENT_TYPE_WEBINAR_ATTENDANCE:
      return v1::EVENT_TYPE_WEBINAR_REGISTRATION;
    default:
      return type;
  }
}

// Event `k` of the lead, for an event of `type`: on the heap, a kept event
// whose properties had the same keys when one is near (so that its map
// entries and buffers are reused), cleared but for its time and properties,
// which FillEvent overwrites.
v1::Event* NextEvent(v1::Lead* lead, int k, v1::EventType type) {
  auto* events = lead->mutable_events();
  if (lead->GetArena() != nullptr) return events->Add();
  if (k >= events->size()) {
    if (spare_events.empty()) return events->Add();
    events->AddAllocated(spare_events.back().release());
    spare_events.pop_back();
  }
  const int wanted = PropertyClass(type);
  if (PropertyClass(events->Get(k).type()) != wanted) {
    const int end = std::min(events->size(), k + 16);
    for (int j = k + 1; j < end; ++j) {
      if (PropertyClass(events->Get(j).type()) == wanted) {
        events->SwapElements(k, j);
        break;
      }
    }
  }
  v1::Event* event = events->Mutable(k);
  std::unique_ptr<google::protobuf::Timestamp> time(
      event->release_occurred_at());
  std::unique_ptr<google::protobuf::Struct> properties(
      event->release_properties());
  event->Clear();
  if (time != nullptr) {
    time->Clear();
    event->set_allocated_occurred_at(time.release());
  }
  if (properties != nullptr)
    event->set_allocated_properties(properties.release());
  return event;
}

// Drops the lead's events from `count` on, keeping them as spares.
void TruncateEvents(v1::Lead* lead, int count) {
  auto* events = lead->mutable_events();
  const int extra = events->size() - count;
  if (extra <= 0) return;
  if (lead->GetArena() != nullptr) {
    events->DeleteSubrange(count, extra);
    return;
  }
  thread_local std::vector<v1::Event*> removed;
  removed.resize(static_cast<size_t>(extra));
  events->ExtractSubrange(count, extra, removed.data());
  for (v1::Event* event : removed) {
    if (spare_events.size() < kMaxSpareEvents) {
      spare_events.emplace_back(event);
    } else {
      delete event;
    }
  }
}

struct Slot {
  int64_t time_ms;
  v1::EventType type;
};

bool IsEmail(v1::EventType type) {
  return type == v1::EVENT_TYPE_EMAIL_OPEN ||
         type == v1::EVENT_TYPE_EMAIL_CLICK;
}

// Email events after slot `from` become page views: mail stops reaching
// people who unsubscribed or whose address bounced.
void StopEmails(std::vector<Slot>& slots, size_t from) {
  for (size_t i = from + 1; i < slots.size(); ++i) {
    if (IsEmail(slots[i].type)) slots[i].type = v1::EVENT_TYPE_PAGE_VIEW;
  }
}

// Event types, in time order, for a lead with the given intent (basis
// points: how close to buying) and fit.
void PlanEvents(Rng& rng, int64_t intent, int fit, bool personal_email,
                std::vector<Slot>& slots) {
  const size_t n = slots.size();
  if (n == 0) return;
  // Trials come in the second half of a journey, product usage after them.
  if (n >= 2 && rng.Chance(150 + intent * 8 / 100)) {
    const size_t t = n / 2 + rng.Below(static_cast<uint32_t>(n - n / 2));
    slots[t].type = v1::EVENT_TYPE_TRIAL_SIGNUP;
    for (size_t i = t + 1; i < n; ++i) {
      if (rng.Chance(3000)) slots[i].type = v1::EVENT_TYPE_CUSTOM;
    }
  }
  if (rng.Chance(std::max<int64_t>(100, 500 - intent * 4 / 100))) {
    const size_t u = rng.Below(static_cast<uint32_t>(n));
    slots[u].type = v1::EVENT_TYPE_UNSUBSCRIBE;
    StopEmails(slots, u);
  }
  if (rng.Chance(personal_email ? 800 : 250)) {
    for (size_t i = 0; i < n; ++i) {
      if (IsEmail(slots[i].type)) {
        slots[i].type = v1::EVENT_TYPE_EMAIL_BOUNCE;
        StopEmails(slots, i);
        break;
      }
    }
  }
  // Hand-raisers: rare, recent, and mostly from people who fit.
  if (rng.Chance(60 + intent * fit / 700)) {
    const size_t h =
        n - 1 - rng.Below(static_cast<uint32_t>(std::max<size_t>(1, n / 4)));
    slots[h].type = rng.Chance(6500) ? v1::EVENT_TYPE_DEMO_REQUEST
                                     : v1::EVENT_TYPE_CONTACT_SALES;
  }
  // Nobody attends a webinar they did not register to.
  bool registered = false;
  for (Slot& slot : slots) {
    if (slot.type == v1::EVENT_TYPE_WEBINAR_REGISTRATION) registered = true;
    if (slot.type == v1::EVENT_TYPE_WEBINAR_ATTENDANCE && !registered) {
      slot.type = v1::EVENT_TYPE_WEBINAR_REGISTRATION;
      registered = true;
    }
  }
}

void FillEvent(Rng& rng, const Slot& slot, int64_t intent, const Text& id,
               const v1::Lead& lead, v1::Event* event) {
  Assign(event->mutable_id(), id);
  event->set_type(slot.type);
  SetTimestamp(slot.time_ms, event->mutable_occurred_at());
  google::protobuf::Struct* p = event->mutable_properties();
  switch (slot.type) {
    case v1::EVENT_TYPE_EMAIL_OPEN:
      SetProperties(p, {{"email", Pick<kEmails>(rng).text}});
      break;
    case v1::EVENT_TYPE_EMAIL_CLICK:
      SetProperties(p, {{"url", rng.Chance(2000 + intent / 2)
                                    ? Pick<kBuyingPages>(rng).text
                                    : Pick<kResearchPages>(rng).text}});
      break;
    case v1::EVENT_TYPE_PAGE_VIEW:
      SetProperties(p, {{"url", rng.Chance(1000 + intent * 6 / 10)
                                    ? Pick<kBuyingPages>(rng).text
                                    : Pick<kResearchPages>(rng).text}});
      break;
    case v1::EVENT_TYPE_CONTENT_DOWNLOAD:
      SetProperties(p, {{"asset", Pick<kAssets>(rng).text}});
      break;
    case v1::EVENT_TYPE_WEBINAR_REGISTRATION:
    case v1::EVENT_TYPE_WEBINAR_ATTENDANCE:
      SetProperties(p, {{"webinar", PickAny(rng, kWebinars)}});
      break;
    case v1::EVENT_TYPE_FORM_SUBMISSION:
      SetProperties(p, {{"form", Pick<kForms>(rng).text}});
      break;
    case v1::EVENT_TYPE_DEMO_REQUEST:
      if (lead.product().empty()) {
        SetProperties(p, {{"form", "demo-request"}});
      } else {
        SetProperties(p,
                      {{"form", "demo-request"}, {"product", lead.product()}});
      }
      break;
    case v1::EVENT_TYPE_CONTACT_SALES:
      SetProperties(p, {{"topic", Pick<kSalesTopics>(rng).text}});
      break;
    case v1::EVENT_TYPE_TRIAL_SIGNUP:
      SetProperties(p, {{"plan", "trial-14d"}});
      break;
    case v1::EVENT_TYPE_UNSUBSCRIBE:
      SetProperties(p, {{"list", rng.Chance(6000) ? "newsletter" : "all"}});
      break;
    case v1::EVENT_TYPE_EMAIL_BOUNCE:
      SetProperties(p, {{"bounce_type", rng.Chance(6000) ? "hard" : "soft"}});
      break;
    case v1::EVENT_TYPE_CUSTOM: {
      const absl::string_view action = Pick<kTrialActions>(rng).text;
      Assign(event->mutable_custom_type(), action);
      if (action == "integration_connected") {
        SetProperties(p, {{"integration", PickAny(rng, kIntegrations)}});
      } else {
        SetProperties(p, {});
      }
      break;
    }
    default:
      SetProperties(p, {});
  }
}

// Who the lead is: a company of the world or one of the out-of-target kinds,
// and a person there. What the later draws depend on is returned.
struct Identity {
  CompanyFacts facts;
  const FixedCompany* fixed = nullptr;
  const FakeIdentity* fake = nullptr;
  bool student = false;
  bool personal_email = false;
};

Identity DrawIdentity(uint64_t seed, Rng& rng, v1::Lead* lead) {
  Identity who;
  v1::Company* company = lead->mutable_company();
  v1::Contact* contact = lead->mutable_contact();
  const uint32_t kind = rng.Below(10000);
  if (kind < kCompetitorBp) {
    who.fixed = &PickAny(rng, kCompetitors);
  } else if (kind < kCompetitorBp + kStudentBp) {
    who.fixed = &PickAny(rng, kUniversities);
    who.student = true;
  } else if (kind < kCompetitorBp + kStudentBp + kFakeBp) {
    who.fake = &PickAny(rng, kFakes);
  }
  if (who.fixed != nullptr) {
    SetFixedCompany(*who.fixed, company);
    who.facts.country = FindCountry(who.fixed->country);
    who.facts.industry = FindIndustry(who.fixed->industry);
    who.facts.employees = who.fixed->employees;
  } else if (who.fake != nullptr) {
    Assign(company->mutable_name(), who.fake->company);
    Assign(company->mutable_domain(), who.fake->domain);
  } else {
    who.facts = MakeCompany(seed, rng.Below64(kCompanies), company);
  }

  const NameGroup& names =
      who.facts.country == nullptr || rng.Chance(kForeignNameBp)
          ? *PickAny(rng, kAllNames)
          : *who.facts.country->names;
  const Name& first = names.first[rng.Below(names.first.size())];
  const Name& last = names.last[rng.Below(names.last.size())];
  if (who.fake != nullptr) {
    Assign(contact->mutable_first_name(), who.fake->first);
    Assign(contact->mutable_last_name(), who.fake->last);
    Assign(contact->mutable_email(), who.fake->email);
  } else {
    Assign(contact->mutable_first_name(), first.display);
    Assign(contact->mutable_last_name(), last.display);
    who.personal_email = rng.Chance(who.student ? 4000 : kPersonalEmailBp);
    SetEmail(rng, first, last,
             who.fixed != nullptr ? who.fixed->email_domain : company->domain(),
             who.personal_email, contact);
    if (who.facts.country != nullptr && rng.Chance(kPhoneBp)) {
      SetPhone(rng, *who.facts.country, contact);
    }
  }
  return who;
}

// Job title, seniority and department; none for a fake identity.
void DrawRole(Rng& rng, const Identity& who, v1::Lead* lead) {
  if (who.student) {
    const absl::string_view title = PickAny(rng, kStudentTitles);
    Assign(lead->mutable_job_title(), title);
    lead->set_seniority(v1::SENIORITY_INDIVIDUAL_CONTRIBUTOR);
    if (rng.Chance(5000)) Assign(lead->mutable_department(), "marketing");
  } else if (who.fake == nullptr) {
    const v1::Seniority seniority = PickSeniority(rng, who.facts.employees);
    const Department* department;
    if (seniority == v1::SENIORITY_OWNER ||
        (seniority == v1::SENIORITY_C_LEVEL && rng.Chance(4000))) {
      department = &kDepartments[kExecutive];
    } else {
      department = &Pick<kDepartments>(rng);
    }
    lead->set_seniority(seniority);
    const absl::string_view title = department->titles[seniority][rng.Below(2)];
    Assign(lead->mutable_job_title(), title);
    if (!rng.Chance(kUnknownDepartmentBp)) {
      Assign(lead->mutable_department(), department->name);
    }
  }
}

// How they came in (source, campaign, product) and what they consented to.
const Source& DrawOrigin(Rng& rng, const Identity& who, v1::Lead* lead) {
  const Source& source = Pick<kSources>(rng);
  Assign(lead->mutable_source(), source.name);
  const absl::string_view campaign = PickAny(rng, source.campaigns);
  if (!campaign.empty()) Assign(lead->mutable_campaign(), campaign);
  if (!rng.Chance(kNoProductBp)) {
    const absl::string_view product =
        (who.facts.employees >= 1000 ? Pick<kProductsLarge>(rng)
                                     : Pick<kProductsSmall>(rng))
            .text;
    Assign(lead->mutable_product(), product);
  }

  v1::Consent* consent = lead->mutable_consent();
  if (rng.Chance(kOptedOutBp)) {
    consent->set_opted_out(true);
    consent->set_do_not_email(true);
    consent->set_do_not_call(true);
  } else {
    consent->set_do_not_email(rng.Chance(kDoNotEmailBp));
    consent->set_do_not_call(rng.Chance(kDoNotCallBp));
  }
  return source;
}

// Attributes are drawn before the events and written once the events say
// whether the person started a trial. `stack` holds the text that the
// tech_stack entry views.
struct Attributes {
  Entry entries[6];
  size_t count = 0;
  Text stack;
};

void DrawAttributes(Rng& rng, const Source& source, const Identity& who,
                    Attributes* out) {
  if (!rng.Chance(1000))
    out->entries[out->count++] = {"plan", Pick<kPlans>(rng).text};
  Text& stack = out->stack;
  if (rng.Chance(7000)) {
    const absl::string_view crm = Pick<kCrms>(rng).text;
    out->entries[out->count++] = {"crm", crm};
    if (rng.Chance(8500)) {
      for (const absl::string_view tool :
           {crm, Pick<kWarehouses>(rng).text, Pick<kAutomation>(rng).text,
            Pick<kBiTools>(rng).text}) {
        if (tool.empty() || tool == "none" ||
            (tool == crm && stack.size() > 0)) {
          continue;
        }
        if (stack.size() > 0) stack << ',';
        stack << tool;
      }
      if (stack.size() > 0) out->entries[out->count++] = {"tech_stack", stack};
    }
  }
  if (rng.Chance(source.lead_magnet_bp)) {
    out->entries[out->count++] = {"lead_magnet", PickAny(rng, kLeadMagnets)};
  }
  if (who.facts.employees > 0 && rng.Chance(5500)) {
    // Seats for the marketing and sales teams: a few per cent of staff.
    const int64_t seats = std::clamp<int64_t>(
        who.facts.employees * (2 + rng.Below(6)) / 100, 1, 500);
    out->entries[out->count++] = {
        "seats", {}, static_cast<double>(seats), true};
  }
}

// Events: counts over 0..2*mean, more for people who fit, within the lead's
// lifetime (mostly long: leads pile up), and skewed toward the present, more
// so for people close to buying. Sets the lead's creation time; returns
// whether the person started a trial.
bool DrawEvents(Rng& rng, int64_t now_ms, int64_t mean_events_x16,
                int64_t intent, int fit, bool personal_email, const Text& id,
                v1::Lead* lead) {
  const int64_t activity_1 = rng.Below(65536);
  const int64_t activity_2 = rng.Below(65536);
  const int64_t activity = std::clamp<int64_t>(
      (activity_1 + activity_2) / 2 + (fit - 50) * 65536 / 500, 0, 65535);
  const size_t n =
      static_cast<size_t>((activity * (2 * mean_events_x16 + 16)) >> 20);
  const int64_t lifetime_1 = rng.Below64(kWindowMs);
  const int64_t lifetime_ms = 1 + std::max(lifetime_1, rng.Below64(kWindowMs));
  SetTimestamp(now_ms - lifetime_ms, lead->mutable_created_at());
  thread_local std::vector<Slot> slots;
  slots.resize(n);
  const int draws = intent > 5000 ? 3 : 2;
  for (Slot& slot : slots) {
    int64_t age = lifetime_ms;
    for (int d = 0; d < draws; ++d) {
      age = std::min(age, rng.Below64(lifetime_ms));
    }
    slot.time_ms = now_ms - 1 - age;
    slot.type = Pick<kAmbientEvents>(rng).type;
  }
  std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.type < b.type;
  });
  PlanEvents(rng, intent, fit, personal_email, slots);
  bool trial = false;
  Text event_id;
  event_id << id.view() << "-e";
  const size_t prefix = event_id.size();
  int written = 0;
  for (size_t k = 0; k < n; ++k) {
    event_id.Truncate(prefix);
    event_id.Number(k);
    v1::Event* event = NextEvent(lead, written++, slots[k].type);
    FillEvent(rng, slots[k], intent, event_id, *lead, event);
    trial = trial || slots[k].type == v1::EVENT_TYPE_TRIAL_SIGNUP;
    if (rng.Chance(kRetryBp)) {
      *NextEvent(lead, written++, slots[k].type) = *event;
    }
  }
  TruncateEvents(lead, written);
  return trial;
}

}  // namespace

LeadGenerator::LeadGenerator(LeadGeneratorOptions options)
    : options_(options), now_ms_(absl::ToUnixMillis(options.now)) {
  // Sixteenths keep the event count in integers; NaN and negatives mean none.
  const double mean = options.mean_events;
  mean_events_x16_ =
      mean > 0 ? static_cast<int64_t>(std::min(mean, 10000.0) * 16 + 0.5) : 0;
}

void LeadGenerator::Generate(int64_t index, v1::Lead* lead) const {
  ResetLead(lead);
  Rng rng(StreamSeed(options_.seed, kLeadStream, static_cast<uint64_t>(index)));
  Text id;
  id << "lead-";
  if (index < 0) id << '-';
  id.Number(index < 0 ? 0 - static_cast<uint64_t>(index)
                      : static_cast<uint64_t>(index));
  Assign(lead->mutable_id(), id);

  const Identity who = DrawIdentity(options_.seed, rng, lead);
  DrawRole(rng, who, lead);
  const Source& source = DrawOrigin(rng, who, lead);

  // Intent (basis points) rises with fit: most leads are just browsing.
  const int fit = TrueFit(*lead);
  const int64_t r = rng.Below(10000);
  const int64_t intent = r * r / 10000 * (40 + fit) / 140;

  Attributes attributes;
  DrawAttributes(rng, source, who, &attributes);
  const bool trial = DrawEvents(rng, now_ms_, mean_events_x16_, intent, fit,
                                who.personal_email, id, lead);
  if (trial) {
    Entry* entries = attributes.entries;
    if (attributes.count == 0 || entries[0].key != "plan") {
      std::move_backward(entries, entries + attributes.count,
                         entries + attributes.count + 1);
      ++attributes.count;
    }
    entries[0] = {"plan", "trial"};
  }
  SetStruct(attributes.entries, attributes.count, lead->mutable_attributes());
}

LeadGenerator::Outcome LeadGenerator::OutcomeOf(const v1::Lead& lead,
                                                int64_t index) const {
  Outcome outcome;
  if (lead.consent().opted_out() || NeverBuys(lead)) {
    return outcome;
  }
  Rng rng(
      StreamSeed(options_.seed, kOutcomeStream, static_cast<uint64_t>(index)));
  int hand_raises = 0, trials = 0, pricing = 0, webinars = 0, downloads = 0,
      clicks = 0, unsubscribes = 0;
  for (const v1::Event& event : lead.events()) {
    // Intent older than two months rarely turns into a deal.
    const int64_t age_ms = now_ms_ - (event.occurred_at().seconds() * 1000 +
                                      event.occurred_at().nanos() / 1000000);
    if (age_ms < 0 || age_ms > 60 * kDayMs) continue;
    switch (event.type()) {
      case v1::EVENT_TYPE_DEMO_REQUEST:
      case v1::EVENT_TYPE_CONTACT_SALES:
        ++hand_raises;
        break;
      case v1::EVENT_TYPE_TRIAL_SIGNUP:
        ++trials;
        break;
      case v1::EVENT_TYPE_PAGE_VIEW: {
        const auto& fields = event.properties().fields();
        const auto url = fields.find("url");
        if (url != fields.end() &&
            absl::string_view(url->second.string_value()).substr(0, 8) ==
                "/pricing") {
          ++pricing;
        }
        break;
      }
      case v1::EVENT_TYPE_WEBINAR_ATTENDANCE:
        ++webinars;
        break;
      case v1::EVENT_TYPE_CONTENT_DOWNLOAD:
        ++downloads;
        break;
      case v1::EVENT_TYPE_EMAIL_CLICK:
        ++clicks;
        break;
      case v1::EVENT_TYPE_UNSUBSCRIBE:
        ++unsubscribes;
        break;
      default:
        break;
    }
  }
  const double fit = TrueFit(lead) / 100.0;
  const double engagement =
      std::min(1.0,
               0.45 * std::min(hand_raises, 1) + 0.25 * std::min(trials, 1) +
                   0.06 * std::min(pricing, 5) + 0.05 * std::min(webinars, 3) +
                   0.03 * std::min(downloads, 4) +
                   0.01 * std::min(clicks, 10)) -
      0.3 * std::min(unsubscribes, 1);
  const double logit = -9.5 + 6.5 * fit + 7.0 * engagement;
  const double p_convert = 1 / (1 + Exp(-logit));
  outcome.converted = rng.Uniform() < p_convert;
  outcome.won = outcome.converted && rng.Uniform() < 0.2 + 0.3 * fit;
  if (outcome.won) {
    // Annual contract value: the product's list price scaled by company size.
    const absl::string_view product = lead.product();
    double price = product == "enterprise-suite" ? 48000
                   : product == "attribution"    ? 15000
                                                 : 9000;
    for (int64_t e = lead.company().employee_count(); e >= 100; e /= 10) {
      price *= 1.6;
    }
    const double noise = 0.7 + 0.8 * rng.Uniform();
    outcome.revenue =
        static_cast<double>(static_cast<int64_t>(price * noise / 100)) * 100;
  }
  return outcome;
}

}  // namespace smarketing
