#include "pinion/dynamic/dsse.h"
#include "pinion/tooling/manifest_signing.h"

#include <gtest/gtest.h>

#include "test_pki.h"

namespace pinion {
namespace {

using testing::Key;
using testing::KeyKind;

constexpr char kType[] = "application/vnd.pinion.manifest+json";

std::vector<std::uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

TEST(DsseTest, PreAuthenticationEncodingMatchesTheSpecVector) {
  auto pae = DssePae("http://example.com/HelloWorld", Bytes("hello world"));
  EXPECT_EQ(std::string(pae.begin(), pae.end()), "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  auto empty = DssePae("t", {});
  EXPECT_EQ(std::string(empty.begin(), empty.end()), "DSSEv1 1 t 0 ");
}

TEST(DsseTest, SignAndVerifyWithEd25519AndP256) {
  for (KeyKind kind : {KeyKind::kEd25519, KeyKind::kEcP256}) {
    Key key = Key::Generate(kind);
    auto envelope = SignDsse(kType, Bytes("{\"version\": 2}"), {key.PrivatePem()});
    ASSERT_TRUE(envelope.ok()) << envelope.error().ToString();
    auto trusted = TrustedKeyFromPem(key.PublicPem());
    ASSERT_TRUE(trusted.ok());
    EXPECT_EQ(envelope->signatures[0].keyid, trusted->keyid);
    auto parsed = ParseDsseEnvelope(SerializeDsseEnvelope(*envelope));
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    auto verified = VerifyDsse(*parsed, kType, std::span(&*trusted, 1));
    ASSERT_TRUE(verified.ok()) << verified.error().ToString();
    EXPECT_EQ(verified->payload, Bytes("{\"version\": 2}"));
    EXPECT_EQ(verified->keyid, trusted->keyid);
  }
}

TEST(DsseTest, ForgeriesAndConfusionsAreRejected) {
  Key signer = Key::Generate(KeyKind::kEd25519);
  Key other = Key::Generate(KeyKind::kEd25519);
  auto trusted = *TrustedKeyFromPem(signer.PublicPem());
  auto envelope = *SignDsse(kType, Bytes("payload"), {signer.PrivatePem()});
  auto verify = [&](const DsseEnvelope& e, std::string_view type = kType) {
    auto result = VerifyDsse(e, type, std::span(&trusted, 1));
    return result.ok() ? std::string("ok") : std::string(ErrorCodeName(result.error().code()));
  };
  EXPECT_EQ(verify(envelope), "ok");
  DsseEnvelope flipped = envelope;
  flipped.payload[0] ^= 1;
  EXPECT_EQ(verify(flipped), "signature_invalid");
  DsseEnvelope retyped = envelope;
  retyped.payload_type = "application/other";
  EXPECT_EQ(verify(retyped, "application/other"), "signature_invalid");  // the type is inside the signed bytes
  EXPECT_EQ(verify(envelope, "application/other"), "signature_invalid");
  DsseEnvelope truncated = envelope;
  truncated.signatures[0].sig.pop_back();
  EXPECT_EQ(verify(truncated), "signature_invalid");
  // A valid signature by an untrusted key, whatever keyid it claims.
  DsseEnvelope untrusted = *SignDsse(kType, Bytes("payload"), {other.PrivatePem()});
  untrusted.signatures[0].keyid = trusted.keyid;
  EXPECT_EQ(verify(untrusted), "signature_invalid");
  // Doubly signed during a signing-key rotation: either key alone suffices.
  auto both = *SignDsse(kType, Bytes("payload"), {other.PrivatePem(), signer.PrivatePem()});
  EXPECT_EQ(both.signatures.size(), 2u);
  EXPECT_EQ(verify(both), "ok");
  EXPECT_EQ(SignDsse(kType, Bytes("x"), {Key::Generate(KeyKind::kRsa2048).PrivatePem()}).error().code(), ErrorCode::kKeyParse);
  EXPECT_EQ(TrustedKeyFromPem(Key::Generate(KeyKind::kEcP384).PublicPem()).error().code(), ErrorCode::kKeyParse);
}

TEST(DsseTest, ParsingIsStrictAndBounded) {
  EXPECT_EQ(ParseDsseEnvelope("{").error().code(), ErrorCode::kPolicySyntax);
  EXPECT_EQ(ParseDsseEnvelope("[]").error().code(), ErrorCode::kPolicySchema);
  EXPECT_EQ(ParseDsseEnvelope(R"({"payloadType":"t","payload":"eA=="})").error().code(), ErrorCode::kPolicySchema);
  EXPECT_EQ(ParseDsseEnvelope(R"({"payloadType":"t","payload":"eA==","signatures":[]})").error().code(), ErrorCode::kPolicySchema);
  EXPECT_EQ(ParseDsseEnvelope(R"({"payloadType":"","payload":"eA==","signatures":[{"sig":"eA=="}]})").error().code(), ErrorCode::kPolicySchema);
  EXPECT_EQ(ParseDsseEnvelope(R"({"payloadType":"t","payload":"e*A=","signatures":[{"sig":"eA=="}]})").error().code(), ErrorCode::kPolicySyntax);
  EXPECT_EQ(ParseDsseEnvelope(std::string(kMaxEnvelopeBytes + 1, ' ')).error().code(), ErrorCode::kInputTooLarge);
  std::string many = R"({"payloadType":"t","payload":"eA==","signatures":[)";
  for (std::size_t i = 0; i <= kMaxEnvelopeSignatures; ++i) many += std::string(i ? "," : "") + R"({"sig":"eA=="})";
  EXPECT_EQ(ParseDsseEnvelope(many + "]}").error().code(), ErrorCode::kPolicySchema);
  // The URL-safe alphabet and missing padding are both allowed by DSSE.
  auto urlsafe = ParseDsseEnvelope(R"({"payloadType":"t","payload":"-_8","signatures":[{"sig":"eA"}],"extra":1})");
  ASSERT_TRUE(urlsafe.ok()) << urlsafe.error().ToString();
  EXPECT_EQ(urlsafe->payload, (std::vector<std::uint8_t>{0xFB, 0xFF}));
}

}  // namespace
}  // namespace pinion
