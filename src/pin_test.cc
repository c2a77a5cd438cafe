#include "pinion/pin.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "pinion/pin_formats.h"
#include "pinion/pin_source.h"

namespace pinion {
namespace {

nlohmann::json LoadJson(const std::string& relative) {
  std::ifstream in(std::string(PINION_TESTDATA_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  return nlohmann::json::parse(in);
}

Pin SpkiPinOfFile(const std::string& relative) {
  auto sources = ReadPinSourcesFromFile(std::string(PINION_TESTDATA_DIR) + "/" + relative);
  EXPECT_TRUE(sources.ok()) << sources.error().ToString();
  return sources->front().SpkiPin();
}

TEST(PinTest, HpkpHeaderFormatsWhatItsParserReadsBack) {
  HpkpHeader header{.pins = {*Pin::Parse("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                             *Pin::Parse("sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=")},
                    .max_age_seconds = 5184000,
                    .include_subdomains = true,
                    .report_uri = "https://r.example.test/hpkp"};
  auto value = FormatHpkpHeader(header);
  ASSERT_TRUE(value.ok()) << value.error().ToString();
  EXPECT_EQ(*value, "pin-sha256=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"; "
                    "pin-sha256=\"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\"; max-age=5184000; includeSubDomains; "
                    "report-uri=\"https://r.example.test/hpkp\"");
  auto parsed = ParseHpkpHeader(*value);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->pins, header.pins);
  EXPECT_EQ(parsed->max_age_seconds, header.max_age_seconds);
  EXPECT_EQ(parsed->include_subdomains, true);
  EXPECT_EQ(parsed->report_uri, header.report_uri);
  header.pins.push_back(*Pin::Parse("cert-sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
  EXPECT_EQ(FormatHpkpHeader(header).error().code(), ErrorCode::kInvalidArgument);
}

TEST(PinTest, CanonicalFormsRoundTrip) {
  std::vector<std::uint8_t> data = {1, 2, 3};
  for (auto algorithm : {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512}) {
    for (Pin pin : {Pin::OfSpki(data, algorithm), Pin::OfCertificate(data, algorithm)}) {
      auto parsed = Pin::Parse(pin.ToString());
      ASSERT_TRUE(parsed.ok()) << pin.ToString() << ": " << parsed.error().ToString();
      EXPECT_EQ(*parsed, pin);
      EXPECT_EQ(parsed->ToString(), pin.ToString());
      EXPECT_EQ(pin.digest().size(), DigestSize(algorithm));
    }
  }
  EXPECT_TRUE(Pin::OfSpki(data).ToString().starts_with("sha256/"));
  EXPECT_TRUE(Pin::OfCertificate(data).ToString().starts_with("cert-sha256/"));
  EXPECT_NE(Pin::OfSpki(data), Pin::OfCertificate(data));  // same digest, different target
}

TEST(PinTest, Base64StartingWithSlashIsCanonicalNotCurl) {
  std::vector<std::uint8_t> digest(32, 0xFF);  // base64 "////…"
  Pin pin = *Pin::FromDigest(PinTarget::kSpki, HashAlgorithm::kSha256, digest);
  ASSERT_TRUE(pin.ToString().starts_with("sha256//"));
  auto parsed = Pin::Parse(pin.ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, pin);
  EXPECT_EQ(*ParseAnyPin(pin.ToString()), pin);
  EXPECT_EQ(*ParseCurlPinList("sha256//" + pin.Base64()), std::vector<Pin>{pin});
}

TEST(PinTest, KnownDigestOfEmptyInput) {
  // SHA-256("") — the common placeholder mistake curl's vectors mention.
  EXPECT_EQ(Pin::OfSpki({}).ToString(), "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

struct BadPin {
  const char* text;
  ErrorCode code;
};

TEST(PinTest, ParseRejectsMalformedInputWithSpecificCode) {
  const BadPin cases[] = {
      {"", ErrorCode::kPinSyntax},
      {"AAUDLk4c98xcFUDvA9i/MnA9HuO03IPi15r+Cx9OXnc=", ErrorCode::kPinSyntax},
      {"sha256//AAUDLk4c98xcFUDvA9i/MnA9HuO03IPi15r+Cx9OXnc=", ErrorCode::kPinSyntax},
      {"sha1/HuVFPi0Nl8Qvhijz8y0LvKvbPJo=", ErrorCode::kPinUnsupportedAlgorithm},
      {"md5/DmxUShsZuNiqPQsX2Oi9uv2sCnw=", ErrorCode::kPinUnsupportedAlgorithm},
      {"sha3/AAAA", ErrorCode::kPinUnsupportedAlgorithm},
      {"sha256/AAUDLk4c98xcFUDvA9i_MnA9HuO03IPi15r-Cx9OXnc=", ErrorCode::kPinBase64},  // base64url
      {"sha256/AAUDLk4c98xcFUDvA9i/MnA9HuO03IPi15r+Cx9OXnc", ErrorCode::kPinBase64},   // unpadded
      {"sha256/AAUDLk4c98xcFUDvA9i/MnA9HuO03IPi15r+Cx9OXnd=", ErrorCode::kPinBase64},  // stray bits
      {"sha256/AAUD Lk4c98xcFUDvA9i/MnA9HuO03IPi15r+Cx9OXnc=", ErrorCode::kPinBase64},  // space
      {"sha256/", ErrorCode::kPinBase64},
      {"sha256/a", ErrorCode::kPinBase64},
      {"sha256/AAAA", ErrorCode::kPinDigestLength},
      {"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ErrorCode::kPinDigestLength},
      {"sha384/AAUDLk4c98xcFUDvA9i/MnA9HuO03IPi15r+Cx9OXnc=", ErrorCode::kPinDigestLength},
      {"sha256/0005032e4e1cf7cc5c1540ef03d8bf32703d1ee3b4dc83e2d79afe0b1f4e5e77",
       ErrorCode::kPinDigestLength},  // hex pasted as base64
  };
  for (const BadPin& bad : cases) {
    auto pin = Pin::Parse(bad.text);
    ASSERT_FALSE(pin.ok()) << bad.text;
    EXPECT_EQ(pin.error().code(), bad.code) << bad.text << ": " << pin.error().ToString();
    EXPECT_FALSE(pin.error().message().empty());
  }
}

TEST(PinTest, OkHttpInvalidConfigurationsAreRejected) {
  // OkHttp refuses these pins; pinion refuses them too (sha512 of the wrong length included).
  nlohmann::json cases = LoadJson("okhttp/certificate_pinner_cases.json");
  for (const auto& item : cases["invalid_configuration"]) {
    std::string pin = item["pin"];
    if (pin.starts_with("sha256/") && item["pattern"] == "example.*") continue;  // host case: see host tests
    EXPECT_FALSE(Pin::Parse(pin).ok()) << pin;
  }
}

TEST(PinTest, HexFingerprints) {
  Pin pin = Pin::OfCertificate(std::vector<std::uint8_t>{9, 9});
  for (std::string text : {pin.Hex(':'), pin.Hex('\0')}) {
    auto parsed = ParseHexFingerprint(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(*parsed, pin);
  }
  std::string lower = pin.Hex('\0');
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  EXPECT_EQ(*ParseHexFingerprint(lower), pin);
  EXPECT_EQ(ParseHexFingerprint(std::string(40, 'a')).error().code(), ErrorCode::kPinUnsupportedAlgorithm);
  EXPECT_EQ(ParseHexFingerprint("AB:CD:EF").error().code(), ErrorCode::kPinDigestLength);
  EXPECT_EQ(ParseHexFingerprint("AB:CDEF").error().code(), ErrorCode::kPinHex);
  EXPECT_EQ(ParseHexFingerprint("AB:CD:").error().code(), ErrorCode::kPinHex);
  EXPECT_EQ(ParseHexFingerprint("ABC").error().code(), ErrorCode::kPinHex);
  EXPECT_EQ(ParseHexFingerprint("ZZ").error().code(), ErrorCode::kPinHex);
}

TEST(PinFormatsTest, CurlVectors) {
  nlohmann::json cases = LoadJson("curl/pinnedpubkey_cases.json");
  Pin server = SpkiPinOfFile("curl/certs/Server-localhost-sv.pub.der");
  EXPECT_EQ(server.Base64(), cases["keys"]["Server-localhost-sv"]["spki_sha256_b64"]);
  for (const auto& item : cases["curl_cases"]) {
    std::string arg = item["pin_arg"];
    std::string expect = item["expect"];
    bool success = expect == "success";
    if (arg.starts_with("sha256//")) {
      auto pins = ParseCurlPinList(arg);
      ASSERT_TRUE(pins.ok()) << arg;
      bool matches = std::find(pins->begin(), pins->end(), server) != pins->end();
      EXPECT_EQ(matches, success) << arg;
    } else {
      // A file argument: what it holds is pinned as curl would (SPKI of the key).
      auto sources = ReadPinSourcesFromFile(std::string(PINION_TESTDATA_DIR) + "/curl/" + arg);
      ASSERT_TRUE(sources.ok()) << arg;
      bool matches = false;
      for (const auto& source : *sources) {
        // curl only treats a *public key* file as a pin; certificates and private
        // keys in the file do not count (test 2035, 2038).
        if (source.kind == PinSourceKind::kPublicKey && source.SpkiPin() == server) matches = true;
      }
      EXPECT_EQ(matches, success) << arg << " (curl test " << item["curl_test"] << ")";
    }
  }
  for (const auto& item : cases["derived_cases"]) {
    std::string arg = item["pin_arg"];
    std::string expect = item["expect_against_Server-localhost-sv"];
    auto pins = ParseCurlPinList(arg);
    bool matches = pins.ok() && std::find(pins->begin(), pins->end(), server) != pins->end();
    EXPECT_EQ(matches, expect.starts_with("success")) << arg;
  }
}

TEST(PinFormatsTest, CurlListErrorsNameTheItem) {
  auto pins = ParseCurlPinList("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;sha256/abc");
  ASSERT_FALSE(pins.ok());
  EXPECT_EQ(pins.error().field(), "[1]");
  EXPECT_EQ(ParseCurlPinList("").error().code(), ErrorCode::kPinSyntax);
  EXPECT_EQ(ParseCurlPinList("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;").error().code(),
            ErrorCode::kPinSyntax);
  Pin a = Pin::OfSpki(std::vector<std::uint8_t>{1});
  Pin b = Pin::OfSpki(std::vector<std::uint8_t>{2});
  auto text = FormatCurlPinList({a, b});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*ParseCurlPinList(*text), (std::vector<Pin>{a, b}));
  EXPECT_FALSE(FormatCurlPinList({Pin::OfCertificate(std::vector<std::uint8_t>{1})}).ok());
}

TEST(PinFormatsTest, HpkpHeader) {
  Pin a = Pin::OfSpki(std::vector<std::uint8_t>{1});
  Pin b = Pin::OfSpki(std::vector<std::uint8_t>{2});
  std::string header = "pin-sha256=\"" + a.Base64() + "\"; PIN-SHA256=\"" + b.Base64() +
                       "\"; max-age=5184000; includeSubDomains; "
                       "report-uri=\"https://r.example.test/pkp;x\"; future-directive=1";
  auto parsed = ParseHpkpHeader(header);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->pins, (std::vector<Pin>{a, b}));
  EXPECT_EQ(parsed->max_age_seconds, 5184000);
  EXPECT_TRUE(parsed->include_subdomains);
  EXPECT_EQ(parsed->report_uri, "https://r.example.test/pkp;x");

  EXPECT_EQ(ParseHpkpHeader("max-age=1").error().code(), ErrorCode::kPinSyntax);
  EXPECT_EQ(ParseHpkpHeader("pin-sha256=\"" + a.Base64() + "\"; max-age=1; max-age=2").error().code(),
            ErrorCode::kPinSyntax);
  EXPECT_EQ(ParseHpkpHeader("pin-sha256=\"" + a.Base64() + "\"; max-age=-1").error().code(),
            ErrorCode::kPinSyntax);
  EXPECT_EQ(ParseHpkpHeader("pin-sha1=\"HuVFPi0Nl8Qvhijz8y0LvKvbPJo=\"").error().code(),
            ErrorCode::kPinUnsupportedAlgorithm);
  EXPECT_EQ(ParseHpkpHeader("pin-sha256=\"abc\"").error().code(), ErrorCode::kPinBase64);
  EXPECT_EQ(ParseHpkpHeader("pin-sha256=\"" + a.Base64()).error().code(), ErrorCode::kPinSyntax);
}

TEST(PinFormatsTest, ParseAnyPinAcceptsEveryNotation) {
  Pin spki = Pin::OfSpki(std::vector<std::uint8_t>{7});
  Pin cert = Pin::OfCertificate(std::vector<std::uint8_t>{7});
  EXPECT_EQ(*ParseAnyPin(spki.ToString()), spki);
  EXPECT_EQ(*ParseAnyPin("sha256//" + spki.Base64()), spki);
  EXPECT_EQ(*ParseAnyPin("pin-sha256=\"" + spki.Base64() + "\""), spki);
  EXPECT_EQ(*ParseAnyPin(cert.Hex()), cert);
  EXPECT_EQ(*ParseAnyPin("  " + cert.ToString() + " "), cert);
  EXPECT_FALSE(ParseAnyPin("nonsense").ok());
}

}  // namespace
}  // namespace pinion
