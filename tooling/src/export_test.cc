// Exports checked by their real consumers: curl, javac + OkHttp, node,
// plistutil, pugixml (Android's structure), the C++ compiler — each must
// accept the legitimate chain and reject the rogue one, as pinion does.
#include "pinion/tooling/export.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <pugixml.hpp>

#include "pinion/host_pattern.h"
#include "pinion/pin_formats.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "pinion/policy_writer.h"
#include "test_pki.h"
#include "tls_server.h"

namespace pinion::tooling {
namespace {

using testing::Key;
using testing::LoopbackTlsServer;
using testing::TempDir;
using testing::TestPki;

constexpr char kHost[] = "api.example.test";

using ShellRun = testing::CommandResult;
ShellRun Shell(const std::string& command) { return testing::RunCommand(command); }

class ExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Create(kHost));
    dir_ = new TempDir();
    dir_->Write("root.pem", pki_->root.Pem());
    dir_->Write("trust.pem", pki_->root.Pem() + pki_->rogue_root.Pem());
    dir_->Write("legit-chain.pem", pki_->leaf.Pem() + pki_->intermediate.Pem() + pki_->root.Pem());
    dir_->Write("rogue-chain.pem", pki_->rogue_leaf.Pem() + pki_->rogue_intermediate.Pem() + pki_->rogue_root.Pem());
    legit_ = new LoopbackTlsServer({.chain_pem = pki_->LeafChainPem(), .key_pem = pki_->leaf_key.PrivatePem()});
    rogue_ = new LoopbackTlsServer({.chain_pem = pki_->RogueChainPem(), .key_pem = pki_->rogue_leaf_key.PrivatePem()});
  }
  static void TearDownTestSuite() {
    delete legit_;
    delete rogue_;
    delete dir_;
    delete pki_;
  }
  // The policy every consumer gets: the leaf key (role leaf) and the offline backup key.
  static PolicySnapshot Policy(const std::string& extra = "expires = 2099-01-01\n", const std::string& host = kHost) {
    auto policy = ParsePolicyToml("[policy]\nversion = 5\n[[domain]]\nhost = \"" + host + "\"\n" + extra +
                                      "pins = [\n  { pin = \"" + pki_->leaf_key.SpkiPin().ToString() +
                                      "\", label = \"leaf \\\"2026\\\" */ -- $x\", role = \"leaf\" },\n  { pin = \"" +
                                      pki_->backup_key.SpkiPin().ToString() + "\", label = \"backup\", role = \"leaf\" },\n]\n",
                                  "consumers.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  static std::string Export(ExportFormat format, const PolicySnapshot& policy = Policy()) {
    auto result = ExportPolicy(*policy, format, {.source_name = "consumers.toml"});
    EXPECT_TRUE(result.ok()) << result.error().ToString();
    return result.ok() ? result->text : std::string();
  }
  static std::string File(const std::string& name) { return (dir_->path() / name).string(); }
  // Parse builds a policy from TOML text, failing the test when it does not load.
  static PolicySnapshot Parse(const std::string& toml) {
    auto policy = ParsePolicyToml("[policy]\nversion = 1\n" + toml, "test.toml");
    EXPECT_TRUE(policy.ok()) << policy.error().ToString();
    return *policy;
  }
  static std::string PinToml(const Key& key, std::string_view role = "") {
    return "{pin = \"" + key.SpkiPin().ToString() + "\"" + (role.empty() ? "" : ", role = \"" + std::string(role) + "\"") + "}";
  }
  // Roundtrip converts a plist to binary and back with the real plistutil, as
  // Xcode would, and returns the XML that came back.
  static std::string Roundtrip(const std::string& plist) {
    dir_->Write("rt.plist", plist);
    ShellRun to_binary = Shell("plistutil -i " + File("rt.plist") + " -o " + File("rt.bin") + " -f bin");
    EXPECT_EQ(to_binary.exit_code, 0) << to_binary.output;
    ShellRun back = Shell("plistutil -i " + File("rt.bin") + " -f xml");
    EXPECT_EQ(back.exit_code, 0) << back.output;
    return back.output;
  }

  static TestPki* pki_;
  static TempDir* dir_;
  static LoopbackTlsServer* legit_;
  static LoopbackTlsServer* rogue_;
};
TestPki* ExportTest::pki_ = nullptr;
TempDir* ExportTest::dir_ = nullptr;
LoopbackTlsServer* ExportTest::legit_ = nullptr;
LoopbackTlsServer* ExportTest::rogue_ = nullptr;

TEST_F(ExportTest, CurlConfigWorksWithCurl) {
  dir_->Write("pins.curlrc", Export(ExportFormat::kCurl));
  auto curl = [&](const LoopbackTlsServer* server) {
    std::string port = std::to_string(server->port());
    return Shell("curl -sS -o /dev/null -K " + File("pins.curlrc") + " --cacert " + File("trust.pem") +
                 " --resolve " + kHost + ":" + port + ":127.0.0.1 https://" + kHost + ":" + port + "/");
  };
  ShellRun legit = curl(legit_);
  ShellRun rogue = curl(rogue_);
  // The test server answers TLS then closes without HTTP: curl reports a receive error (52/56)
  // after a successful handshake, and exit 90 when the pinned key does not match.
  EXPECT_NE(legit.exit_code, 90) << legit.output;
  EXPECT_NE(legit.exit_code, 60) << legit.output;
  EXPECT_EQ(rogue.exit_code, 90) << rogue.output;
}

TEST_F(ExportTest, OkHttpJavaCompilesAndPinsLikePinion) {
  dir_->Write("PinionPins.java", Export(ExportFormat::kOkHttpJava));
  dir_->Write("PinCheck.java", R"(
import java.io.FileInputStream;
import java.security.cert.*;
import java.util.*;
public class PinCheck {
  public static void main(String[] args) throws Exception {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<Certificate> chain = new ArrayList<>(factory.generateCertificates(new FileInputStream(args[1])));
    try {
      PinionPins.CERTIFICATE_PINNER.check(args[0], chain);
      System.out.println("accepted");
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      System.out.println("rejected");
    }
  }
}
)");
  std::string classpath = "/usr/share/java/okhttp.jar:/usr/share/java/okio.jar";
  ShellRun compile = Shell("cd " + dir_->path().string() + " && javac -cp " + classpath + " PinionPins.java PinCheck.java");
  ASSERT_EQ(compile.exit_code, 0) << compile.output;
  std::string run = "java -cp " + classpath + ":" + dir_->path().string() + " PinCheck " + kHost + " ";
  EXPECT_EQ(Shell(run + File("legit-chain.pem")).output, "accepted\n");
  EXPECT_EQ(Shell(run + File("rogue-chain.pem")).output, "rejected\n");
  ShellRun unpinned = Shell("java -cp " + classpath + ":" + dir_->path().string() + " PinCheck other.example.test " + File("rogue-chain.pem"));
  EXPECT_EQ(unpinned.output, "accepted\n");
}

TEST_F(ExportTest, OkHttpKotlinCompilesAndPinsLikePinion) {
  std::filesystem::create_directories(dir_->path() / "kt");
  dir_->Write("kt/Pins.kt", Export(ExportFormat::kOkHttp));
  dir_->Write("kt/Check.kt", R"(
fun main(args: Array<String>) {
    val factory = java.security.cert.CertificateFactory.getInstance("X.509")
    val chain = java.io.FileInputStream(args[1]).use { factory.generateCertificates(it).toList() }
    try {
        certificatePinner.check(args[0], chain)
        println("accepted")
    } catch (e: javax.net.ssl.SSLPeerUnverifiedException) {
        println("rejected")
    }
}
)");
  std::string kt = (dir_->path() / "kt").string();
  std::string classpath = "/usr/share/java/okhttp.jar:/usr/share/java/okio.jar";
  ShellRun compile = Shell("cd " + kt + " && kotlinc -nowarn -cp " + classpath + " Pins.kt Check.kt -d out");
  ASSERT_EQ(compile.exit_code, 0) << compile.output;
  std::string run = "kotlin -cp " + classpath + ":" + kt + "/out CheckKt " + kHost + " ";
  auto last_line = [](const std::string& out) {
    std::string trimmed = out.substr(0, out.find_last_not_of('\n') + 1);
    return trimmed.substr(trimmed.find_last_of('\n') + 1);  // kotlin may print JVM warnings first
  };
  EXPECT_EQ(last_line(Shell(run + File("legit-chain.pem")).output), "accepted");
  EXPECT_EQ(last_line(Shell(run + File("rogue-chain.pem")).output), "rejected");
}

TEST_F(ExportTest, NodeModulePinsAgainstTheLoopbackServer) {
  dir_->Write("pins.js", Export(ExportFormat::kNodeJs));
  dir_->Write("connect.js", R"(
const tls = require('tls');
const fs = require('fs');
const { checkServerIdentity } = require('./pins.js');
const socket = tls.connect({ host: '127.0.0.1', servername: process.argv[3], port: Number(process.argv[2]),
                             ca: fs.readFileSync(process.argv[4]), checkServerIdentity }, () => {
  console.log('accepted'); socket.destroy();
});
socket.on('error', (e) => { console.log(e.code === 'ERR_PINION_PIN_MISMATCH' ? 'rejected' : 'error ' + e.message); });
)");
  auto node = [&](const LoopbackTlsServer* server) {
    return Shell("cd " + dir_->path().string() + " && node connect.js " + std::to_string(server->port()) + " " + kHost + " " +
                 File("trust.pem")).output;
  };
  EXPECT_EQ(node(legit_), "accepted\n");
  EXPECT_EQ(node(rogue_), "rejected\n");
}

TEST_F(ExportTest, PlistsParseWithPlistutil) {
  for (auto format : {ExportFormat::kIosPlist, ExportFormat::kTrustKit}) {
    // TrustKit refuses names under no public suffix, such as .test.
    dir_->Write("pins.plist", Export(format, Policy("expires = 2099-01-01\n", "api.example.com")));
    ShellRun to_binary = Shell("plistutil -i " + File("pins.plist") + " -o " + File("pins.bin") + " -f bin");
    ASSERT_EQ(to_binary.exit_code, 0) << to_binary.output;
    ShellRun back = Shell("plistutil -i " + File("pins.bin") + " -f xml");
    ASSERT_EQ(back.exit_code, 0);
    EXPECT_NE(back.output.find(pki_->leaf_key.SpkiPin().Base64()), std::string::npos) << back.output;
    EXPECT_NE(back.output.find(pki_->backup_key.SpkiPin().Base64()), std::string::npos);
    EXPECT_NE(back.output.find(format == ExportFormat::kIosPlist ? "NSPinnedLeafIdentities" : "TSKPublicKeyHashes"),
              std::string::npos);
  }
}

TEST_F(ExportTest, AndroidXmlHasThePlatformStructure) {
  pugi::xml_document document;
  std::string xml = Export(ExportFormat::kAndroidNsc);
  ASSERT_TRUE(document.load_string(xml.c_str())) << xml;
  auto config = document.child("network-security-config");
  auto domain_config = config.child("domain-config");
  EXPECT_STREQ(domain_config.child("domain").text().get(), kHost);
  EXPECT_STREQ(domain_config.child("domain").attribute("includeSubdomains").value(), "false");
  auto pin_set = domain_config.child("pin-set");
  EXPECT_STREQ(pin_set.attribute("expiration").value(), "2099-01-01");
  std::vector<std::string> pins;
  for (auto pin : pin_set.children("pin")) {
    EXPECT_STREQ(pin.attribute("digest").value(), "SHA-256");
    pins.emplace_back(pin.text().get());
  }
  EXPECT_EQ(pins, (std::vector<std::string>{pki_->leaf_key.SpkiPin().Base64(), pki_->backup_key.SpkiPin().Base64()}));
  EXPECT_NE(xml.find("policy version 5"), std::string::npos);
}

TEST_F(ExportTest, CppHeaderCompilesAndEnforces) {
  dir_->Write("pins.generated.h", Export(ExportFormat::kCpp));
  dir_->Write("main.cc", R"(
#include <cstdio>
#include "pinion/evaluate.h"
#include "pinion/pin_source.h"
#include "pins.generated.h"
int main(int, char** argv) {
  auto policy = pinion_generated::LoadPolicy();
  if (!policy) { std::puts(policy.error().ToString().c_str()); return 2; }
  auto certificates = pinion::ReadCertificatesFromFile(argv[1]);
  auto chain = pinion::VerifiedChain::FromChainValidatedByCaller(*certificates);
  pinion::Verdict verdict = pinion::Evaluate(*policy, "api.example.test", 443, *chain, pinion::SystemClock::Instance().Now());
  std::puts(verdict.allowed() ? "accepted" : "rejected");
  return 0;
}
)");
  std::string command = std::string(PINION_TEST_CXX) + " -std=c++20 " + PINION_TEST_CXX_FLAGS + " -I" + PINION_TEST_INCLUDE +
                        " -I" + dir_->path().string() + " " + File("main.cc") + " " + PINION_TEST_LIBRARY +
                        " -lssl -lcrypto -lidn2 -lpsl -ltomlplusplus -o " + File("pinned");
  ShellRun compile = Shell(command);
  ASSERT_EQ(compile.exit_code, 0) << command << "\n" << compile.output;
  EXPECT_EQ(Shell(File("pinned") + " " + File("legit-chain.pem")).output, "accepted\n");
  EXPECT_EQ(Shell(File("pinned") + " " + File("rogue-chain.pem")).output, "rejected\n");
}

// The compiled-in policy is the same policy as the file: anchors from a file
// travel as PEM, and a label holding the raw string's own delimiter survives.
TEST_F(ExportTest, CppHeaderHoldsExactlyThePolicyOfTheFile) {
  dir_->Write("anchors.pem", pki_->root.Pem());
  auto policy = ParsePolicyToml("[policy]\nversion = 9\n[[domain]]\nhost = \"" + std::string(kHost) +
                                    "\"\nanchors = \"" + File("anchors.pem") + "\"\npins = [{ pin = \"" +
                                    pki_->leaf_key.SpkiPin().ToString() + "\", label = \"a )pinion\\\" b\" }]\n",
                                "anchored.toml");
  ASSERT_TRUE(policy.ok()) << policy.error().ToString();
  dir_->Write("anchored.generated.h", Export(ExportFormat::kCpp, *policy));
  dir_->Write("dump.cc", R"(
#include <cstdio>
#include "pinion/policy_writer.h"
#include "anchored.generated.h"
int main() {
  auto policy = pinion_generated::LoadPolicy();
  if (!policy) { std::puts(policy.error().ToString().c_str()); return 2; }
  std::fputs(pinion::PolicyToJson(**policy, {.self_contained = true}).c_str(), stdout);
  return 0;
}
)");
  std::string command = std::string(PINION_TEST_CXX) + " -std=c++20 " + PINION_TEST_CXX_FLAGS + " -I" + PINION_TEST_INCLUDE +
                        " -I" + dir_->path().string() + " " + File("dump.cc") + " " + PINION_TEST_LIBRARY +
                        " -lssl -lcrypto -lidn2 -lpsl -ltomlplusplus -o " + File("dump");
  ShellRun compile = Shell(command);
  ASSERT_EQ(compile.exit_code, 0) << command << "\n" << compile.output;
  ShellRun dumped = Shell(File("dump"));
  ASSERT_EQ(dumped.exit_code, 0) << dumped.output;
  EXPECT_EQ(dumped.output, PolicyToJson(**policy, {.self_contained = true}));
  auto reread = ParsePolicyJson(dumped.output, "dumped.json");
  ASSERT_TRUE(reread.ok()) << reread.error().ToString();
  EXPECT_EQ((*reread)->rules()[0].anchors.certificates_der, (*policy)->rules()[0].anchors.certificates_der);
  EXPECT_EQ((*reread)->rules()[0].pins[0].label, "a )pinion\" b");
}

TEST_F(ExportTest, HpkpAndEnvoy) {
  std::string hpkp = Export(ExportFormat::kHpkp);
  EXPECT_NE(hpkp.find("DEPRECATED"), std::string::npos);
  std::string line = hpkp.substr(hpkp.find("Public-Key-Pins: "));
  auto header = ParseHpkpHeader(line.substr(17, line.find('\n') - 17));
  ASSERT_TRUE(header.ok()) << header.error().ToString();
  EXPECT_EQ(header->pins, (std::vector<Pin>{pki_->leaf_key.SpkiPin(), pki_->backup_key.SpkiPin()}));
  EXPECT_GT(*header->max_age_seconds, 86400);
  std::string report_only = Export(ExportFormat::kHpkp, Policy("mode = \"report-only\"\nreport_uri = [\"https://r.example.test/\"]\n"));
  EXPECT_NE(report_only.find("Public-Key-Pins-Report-Only: "), std::string::npos);
  std::string envoy = Export(ExportFormat::kEnvoy);
  EXPECT_NE(envoy.find("verify_certificate_spki:\n    - \"" + pki_->leaf_key.SpkiPin().Base64() + "\""), std::string::npos) << envoy;
}

std::string Changes(const ExportResult& result) {
  std::string text;
  for (const ExportChange& change : result.changes) text += change.ToString() + "\n";
  return text;
}

// HasChange: a change of `kind` about `domain` whose reason contains `text`.
bool HasChange(const ExportResult& result, ExportChangeKind kind, std::string_view domain, std::string_view text) {
  return std::any_of(result.changes.begin(), result.changes.end(), [&](const ExportChange& change) {
    return change.kind == kind && change.domain == domain && change.reason.find(text) != std::string::npos;
  });
}

// PlistValue: the value element after <key>key</key> in a plist <dict>.
pugi::xml_node PlistValue(pugi::xml_node dict, std::string_view key) {
  for (pugi::xml_node child = dict.child("key"); child; child = child.next_sibling("key")) {
    if (key == child.text().get()) return child.next_sibling();
  }
  return {};
}

// PinnedDomains: the NSPinnedDomains (or TSKPinnedDomains) dict of a plist.
pugi::xml_node PinnedDomains(const pugi::xml_document& document, bool trustkit) {
  pugi::xml_node root = document.child("plist").child("dict");
  return trustkit ? PlistValue(PlistValue(root, "TSKConfiguration"), "TSKPinnedDomains")
                  : PlistValue(PlistValue(root, "NSAppTransportSecurity"), "NSPinnedDomains");
}

// TrustKitStartupProblem applies the checks TrustKit makes on its
// configuration when the app starts (parse_configuration.m at the commit of
// /work/shared/testdata/trustkit/SOURCE.md): "" when TrustKit would start.
std::string TrustKitStartupProblem(const std::string& xml) {
  pugi::xml_document document;
  if (!document.load_string(xml.c_str())) return "not XML";
  pugi::xml_node domains = PinnedDomains(document, true);
  if (!domains || !domains.child("key")) return "no pinned domains";
  for (pugi::xml_node key = domains.child("key"); key; key = key.next_sibling("key")) {
    std::string name = key.text().get();
    pugi::xml_node domain = key.next_sibling();
    pugi::xml_node enforce = PlistValue(domain, "TSKEnforcePinning");
    std::size_t required = enforce && std::string_view(enforce.name()) == "false" ? 1 : 2;
    std::size_t pins = 0;
    for (pugi::xml_node hash : PlistValue(domain, "TSKPublicKeyHashes").children("string")) {
      if (!Pin::Parse(std::string("sha256/") + hash.text().get()).ok()) return name + ": a hash is not 32 bytes";
      ++pins;
    }
    if (pins < required) return name + ": fewer than " + std::to_string(required) + " pins";
    if (pugi::xml_node date = PlistValue(domain, "TSKExpirationDate")) {
      std::string text = date.text().get();
      bool shape = text.size() == 10 && text[4] == '-' && text[7] == '-';
      if (!shape) return name + ": expiration date not yyyy-MM-dd";
    }
    for (pugi::xml_node uri : PlistValue(domain, "TSKReportUris").children("string")) {
      if (!IsValidReportUri(uri.text().get())) return name + ": report URI is not a URL";
    }
    pugi::xml_node include = PlistValue(domain, "TSKIncludeSubdomains");
    if (include && std::string_view(include.name()) == "true" && IsPublicSuffix(name)) {
      return name + ": include subdomains on a public suffix";
    }
    if (name.ends_with(".test")) return name + ": not under a known registry";
  }
  return "";
}

TEST_F(ExportTest, WhatATargetCannotExpressIsALossyChange) {
  auto policy = Parse("[[domain]]\nhost = \"*.wild.example.test\"\nexpires = 2099-01-01T12:00:00Z\npins = [" +
                      PinToml(pki_->leaf_key) + ", {pin = \"" + pki_->leaf.CertificatePin().ToString() + "\"}]\n"
                      "[[domain]]\nhost = \"ro.example.test\"\nmode = \"report-only\"\nreport_uri = [\"https://r.example.test/\"]\n"
                      "pins = [" + PinToml(pki_->leaf_key) + "]\n");
  auto android = ExportPolicy(*policy, ExportFormat::kAndroidNsc, {});
  ASSERT_TRUE(android.ok());
  EXPECT_TRUE(android->lossy());
  EXPECT_TRUE(HasChange(*android, ExportChangeKind::kLossy, "*.wild.example.test", "one-label wildcard")) << Changes(*android);
  EXPECT_TRUE(HasChange(*android, ExportChangeKind::kLossy, "*.wild.example.test", "cert-sha256/"));
  EXPECT_TRUE(HasChange(*android, ExportChangeKind::kLossy, "*.wild.example.test", "takes a date only"));
  EXPECT_TRUE(HasChange(*android, ExportChangeKind::kLossy, "ro.example.test", "Android cannot report"));
  EXPECT_EQ(android->text.find("ro.example.test</domain>"), std::string::npos);  // left out, not enforced
  auto curl = ExportPolicy(*policy, ExportFormat::kCurl, {});
  EXPECT_EQ(curl.error().code(), ErrorCode::kInvalidArgument);  // several rules: --host needed
  auto curl_host = ExportPolicy(*policy, ExportFormat::kCurl, {.host = "x.wild.example.test"});
  ASSERT_TRUE(curl_host.ok());
  EXPECT_TRUE(HasChange(*curl_host, ExportChangeKind::kLossy, "*.wild.example.test", "has no role")) << Changes(*curl_host);
  EXPECT_EQ(curl_host->changes.front().ToString().rfind("lossy: *.wild.example.test: ", 0), 0u);
  EXPECT_FALSE(ParseExportFormat("blackberry").ok());
}

TEST_F(ExportTest, ExactExportsListNoLossyChange) {
  // Leaf pins with their role and an expiry that keeps enforcing: every target below can say exactly that.
  PolicySnapshot policy = Policy("expires = 2099-01-01\non_expiry = \"enforce\"\n");
  for (ExportFormat format : {ExportFormat::kAndroidNsc, ExportFormat::kIosPlist, ExportFormat::kOkHttp,
                              ExportFormat::kOkHttpJava, ExportFormat::kCurl, ExportFormat::kEnvoy, ExportFormat::kCpp}) {
    auto result = ExportPolicy(*policy, format, {});
    ASSERT_TRUE(result.ok()) << result.error().ToString();
    EXPECT_FALSE(result->lossy()) << static_cast<int>(format) << "\n" << Changes(*result);
  }
  auto trustkit = ExportPolicy(*Policy("expires = 2099-01-01\n", "api.example.com"), ExportFormat::kTrustKit, {});
  ASSERT_TRUE(trustkit.ok());
  EXPECT_FALSE(trustkit->lossy()) << Changes(*trustkit);
}

TEST_F(ExportTest, IosPlistPutsEachDomainsPinsInOneAtsList) {
  auto policy = Parse("[[domain]]\nhost = \"ca.example.test\"\npins = [" + PinToml(pki_->intermediate_key, "ca") + ", " +
                      PinToml(pki_->backup_key, "ca") + "]\n[[domain]]\nhost = \"leaf.example.test\"\npins = [" +
                      PinToml(pki_->leaf_key, "leaf") + ", " + PinToml(pki_->backup_key, "leaf") + "]\n");
  auto result = ExportPolicy(*policy, ExportFormat::kIosPlist, {});
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_FALSE(result->lossy()) << Changes(*result);
  pugi::xml_document document;
  std::string xml = Roundtrip(result->text);
  ASSERT_TRUE(document.load_string(xml.c_str())) << xml;
  pugi::xml_node domains = PinnedDomains(document, false);
  pugi::xml_node ca = PlistValue(domains, "ca.example.test");
  pugi::xml_node leaf = PlistValue(domains, "leaf.example.test");
  EXPECT_FALSE(PlistValue(ca, "NSPinnedLeafIdentities")) << xml;
  EXPECT_EQ(std::distance(PlistValue(ca, "NSPinnedCAIdentities").children("dict").begin(),
                          PlistValue(ca, "NSPinnedCAIdentities").children("dict").end()), 2);
  EXPECT_FALSE(PlistValue(leaf, "NSPinnedCAIdentities")) << xml;
  EXPECT_STREQ(PlistValue(PlistValue(leaf, "NSPinnedLeafIdentities").child("dict"), "SPKI-SHA256-BASE64").text().get(),
               pki_->leaf_key.SpkiPin().Base64().c_str());
}

TEST_F(ExportTest, IosPlistRefusesPinsAtsWouldRequireInBothLists) {
  // The recommended layout: the issuing CA's key and an offline backup leaf key.
  std::string mixed = "[[domain]]\nhost = \"api.example.test\"\npins = [" + PinToml(pki_->intermediate_key, "ca") + ", " +
                      PinToml(pki_->backup_key, "leaf") + "]\n";
  auto alone = ExportPolicy(*Parse(mixed), ExportFormat::kIosPlist, {});
  ASSERT_FALSE(alone.ok());
  EXPECT_EQ(alone.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(alone.error().message().find("api.example.test left out (iOS leaves its hosts unpinned, or pinned by a broader entry): the rule has "
                                           "leaf and CA pins"),
            std::string::npos) << alone.error().message();
  std::string other = "[[domain]]\nhost = \"other.example.test\"\npins = [" + PinToml(pki_->leaf_key, "leaf") + "]\n";
  auto result = ExportPolicy(*Parse(mixed + other), ExportFormat::kIosPlist, {});
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(HasChange(*result, ExportChangeKind::kLossy, "api.example.test", "a match in each list")) << Changes(*result);
  EXPECT_EQ(result->text.find("api.example.test</key>"), std::string::npos) << result->text;
  EXPECT_EQ(result->text.find("<string>" + pki_->intermediate_key.SpkiPin().Base64()), std::string::npos);
  // A pin without a role could sit at the leaf or above it: no list is known to keep the meaning.
  std::string unknown = "[[domain]]\nhost = \"api.example.test\"\npins = [" + PinToml(pki_->leaf_key) + ", " +
                        PinToml(pki_->backup_key) + "]\n";
  auto roles = ExportPolicy(*Parse(unknown + other), ExportFormat::kIosPlist, {});
  ASSERT_TRUE(roles.ok());
  EXPECT_TRUE(HasChange(*roles, ExportChangeKind::kLossy, "api.example.test", "role = \"leaf\" or role = \"ca\"")) << Changes(*roles);
}

TEST_F(ExportTest, IosPlistSubdomainsReachOneLabel) {
  std::string pins = "pins = [" + PinToml(pki_->leaf_key, "leaf") + ", " + PinToml(pki_->backup_key, "leaf") + "]\n";
  // "example.test" + "*.example.test" with the same pins is exactly ATS's NSIncludesSubdomains.
  auto pair = ExportPolicy(*Parse("[[domain]]\nhost = \"example.test\"\n" + pins + "[[domain]]\nhost = \"*.example.test\"\n" + pins),
                           ExportFormat::kIosPlist, {});
  ASSERT_TRUE(pair.ok());
  EXPECT_FALSE(pair->lossy()) << Changes(*pair);
  pugi::xml_document document;
  std::string xml = Roundtrip(pair->text);
  ASSERT_TRUE(document.load_string(xml.c_str()));
  EXPECT_STREQ(PlistValue(PlistValue(PinnedDomains(document, false), "example.test"), "NSIncludesSubdomains").name(), "true");
  EXPECT_EQ(std::distance(PinnedDomains(document, false).children("key").begin(), PinnedDomains(document, false).children("key").end()), 1);
  // "**." covers every depth; ATS one label only.
  auto subtree = ExportPolicy(*Parse("[[domain]]\nhost = \"**.example.test\"\n" + pins), ExportFormat::kIosPlist, {});
  ASSERT_TRUE(subtree.ok());
  EXPECT_TRUE(HasChange(*subtree, ExportChangeKind::kLossy, "**.example.test", "one label below")) << Changes(*subtree);
  // "*." alone: ATS also pins the name itself.
  auto wildcard = ExportPolicy(*Parse("[[domain]]\nhost = \"*.example.test\"\n" + pins), ExportFormat::kIosPlist, {});
  ASSERT_TRUE(wildcard.ok());
  EXPECT_TRUE(HasChange(*wildcard, ExportChangeKind::kLossy, "*.example.test", "itself")) << Changes(*wildcard);
  // Two rules on one name with other pins: one key only (a plist cannot repeat it), the other left out.
  auto clash = ExportPolicy(*Parse("[[domain]]\nhost = \"example.test\"\n" + pins + "[[domain]]\nhost = \"**.example.test\"\npins = [" +
                                   PinToml(pki_->intermediate_key, "ca") + "]\n"),
                            ExportFormat::kIosPlist, {});
  ASSERT_TRUE(clash.ok());
  EXPECT_TRUE(HasChange(*clash, ExportChangeKind::kLossy, "**.example.test", "left out")) << Changes(*clash);
  std::string clash_xml = Roundtrip(clash->text);
  EXPECT_EQ(clash_xml.find("<key>example.test</key>"), clash_xml.rfind("<key>example.test</key>")) << clash_xml;
}

TEST_F(ExportTest, TrustKitNeverEmitsADomainTrustKitRejects) {
  std::string two = "pins = [" + PinToml(pki_->leaf_key) + ", " + PinToml(pki_->backup_key) + "]\n";
  auto policy = Parse(
      // One key pin left once the certificate pin is dropped: TrustKit requires a backup pin.
      "[[domain]]\nhost = \"one.example.com\"\npins = [" + PinToml(pki_->leaf_key) + ", {pin = \"" +
      pki_->leaf.CertificatePin().ToString() + "\"}]\n"
      // Not under a public suffix TrustKit knows: it raises "invalid domain".
      "[[domain]]\nhost = \"svc.example.test\"\n" + two +
      // Report-only needs one pin only.
      "[[domain]]\nhost = \"ro.example.com\"\nmode = \"report-only\"\nreport_uri = [\"https://r.example.com/pkp\"]\npins = [" +
      PinToml(pki_->leaf_key) + "]\n"
      "[[domain]]\nhost = \"**.two.example.com\"\nexpires = 2099-01-01T12:00:00Z\n" + two);
  auto result = ExportPolicy(*policy, ExportFormat::kTrustKit, {});
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_TRUE(HasChange(*result, ExportChangeKind::kLossy, "one.example.com", "backup pin")) << Changes(*result);
  EXPECT_TRUE(HasChange(*result, ExportChangeKind::kLossy, "svc.example.test", "Public Suffix List"));
  EXPECT_TRUE(HasChange(*result, ExportChangeKind::kLossy, "**.two.example.com", "takes a date only"));
  std::string xml = Roundtrip(result->text);
  EXPECT_EQ(TrustKitStartupProblem(xml), "") << xml;
  pugi::xml_document document;
  ASSERT_TRUE(document.load_string(xml.c_str()));
  pugi::xml_node domains = PinnedDomains(document, true);
  EXPECT_FALSE(PlistValue(domains, "one.example.com"));
  EXPECT_FALSE(PlistValue(domains, "svc.example.test"));
  EXPECT_STREQ(PlistValue(PlistValue(domains, "ro.example.com"), "TSKEnforcePinning").name(), "false");
  EXPECT_STREQ(PlistValue(PlistValue(domains, "two.example.com"), "TSKExpirationDate").text().get(), "2099-01-01");
  for (pugi::xml_node key : domains.children("key")) {
    // Never TrustKit's default report server: the policy did not ask for it.
    EXPECT_STREQ(PlistValue(key.next_sibling(), "TSKDisableDefaultReportUri").name(), "true") << key.text().get();
  }
  // A policy with nothing TrustKit can start with is refused outright.
  EXPECT_FALSE(ExportPolicy(*Parse("[[domain]]\nhost = \"one.example.com\"\npins = [" + PinToml(pki_->leaf_key) + "]\n"),
                            ExportFormat::kTrustKit, {})
                   .ok());
}

TEST_F(ExportTest, CurlAndEnvoyRefuseRulesWithOnlyCaPins) {
  auto ca_only = Parse("[[domain]]\nhost = \"" + std::string(kHost) + "\"\npins = [" + PinToml(pki_->intermediate_key, "ca") +
                       ", " + PinToml(pki_->root_key, "ca") + "]\n");
  for (ExportFormat format : {ExportFormat::kCurl, ExportFormat::kEnvoy}) {
    auto refused = ExportPolicy(*ca_only, format, {});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.error().message().find("leaf"), std::string::npos) << refused.error().message();
  }
  // Why: curl compares the leaf's key only, so a CA pin fails every transfer with exit 90.
  std::string port = std::to_string(legit_->port());
  dir_->Write("ca.curlrc", "pinnedpubkey = \"sha256//" + pki_->intermediate_key.SpkiPin().Base64() + "\"\n");
  std::string curl = "curl -sS -o /dev/null --cacert " + File("trust.pem") + " --resolve " + kHost + ":" + port +
                     ":127.0.0.1 https://" + kHost + ":" + port + "/ -K ";
  EXPECT_EQ(Shell(curl + File("ca.curlrc")).exit_code, 90);
  // CA and leaf pins: the CA pin is dropped, which is said; the leaf pin still admits the server.
  auto mixed = Parse("[[domain]]\nhost = \"" + std::string(kHost) + "\"\npins = [" + PinToml(pki_->intermediate_key, "ca") +
                     ", " + PinToml(pki_->leaf_key, "leaf") + "]\n");
  auto result = ExportPolicy(*mixed, ExportFormat::kCurl, {});
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(HasChange(*result, ExportChangeKind::kLossy, kHost, "CA pin")) << Changes(*result);
  EXPECT_EQ(result->text.find("sha256//" + pki_->intermediate_key.SpkiPin().Base64()), std::string::npos) << result->text;
  dir_->Write("mixed.curlrc", result->text);
  ShellRun legit = Shell(curl + File("mixed.curlrc"));
  EXPECT_NE(legit.exit_code, 90) << legit.output;
  EXPECT_NE(legit.exit_code, 60) << legit.output;
}

TEST_F(ExportTest, CurlConfigCarriesTheRulesAnchorsFile) {
  // The rule trusts only the legitimate root: the config says so with cacert, and curl obeys it.
  dir_->Write("anchors.toml", "[policy]\nversion = 1\n[[domain]]\nhost = \"" + std::string(kHost) +
                                  "\"\nanchors = \"root.pem\"\npins = [" + PinToml(pki_->leaf_key, "leaf") + "]\n");
  auto policy = LoadPolicyFile(File("anchors.toml"));
  ASSERT_TRUE(policy.ok()) << policy.error().ToString();
  auto result = ExportPolicy(**policy, ExportFormat::kCurl, {});
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->lossy()) << Changes(*result);
  EXPECT_NE(result->text.find("cacert = \"" + File("root.pem") + "\"\n"), std::string::npos) << result->text;
  dir_->Write("anchors.curlrc", result->text);
  auto curl = [&](const LoopbackTlsServer* server) {
    std::string port = std::to_string(server->port());
    return Shell("curl -sS -o /dev/null -K " + File("anchors.curlrc") + " --resolve " + kHost + ":" + port +
                 ":127.0.0.1 https://" + kHost + ":" + port + "/");
  };
  ShellRun legit = curl(legit_);
  EXPECT_NE(legit.exit_code, 60) << legit.output;
  EXPECT_NE(legit.exit_code, 90) << legit.output;
  EXPECT_EQ(curl(rogue_).exit_code, 60);  // not under the rule's anchors
  auto envoy = ExportPolicy(**policy, ExportFormat::kEnvoy, {});
  ASSERT_TRUE(envoy.ok());
  EXPECT_NE(envoy->text.find("    trusted_ca:\n      filename: \"" + File("root.pem") + "\""), std::string::npos) << envoy->text;
}

TEST_F(ExportTest, OkHttpDoubleStarAndCombinedPinsAreLossy) {
  std::string pins = "pins = [" + PinToml(pki_->leaf_key) + ", " + PinToml(pki_->backup_key) + "]\n";
  auto subtree = ExportPolicy(*Parse("[[domain]]\nhost = \"**.example.test\"\n" + pins), ExportFormat::kOkHttpJava, {});
  ASSERT_TRUE(subtree.ok());
  EXPECT_TRUE(HasChange(*subtree, ExportChangeKind::kLossy, "**.example.test", "OkHttp 3.x")) << Changes(*subtree);
  // OkHttp adds the wildcard's pins to api.example.test; pinion uses the exact rule only.
  std::string overlap = "[[domain]]\nhost = \"api.example.test\"\n" + pins + "[[domain]]\nhost = \"*.example.test\"\npins = [" +
                        PinToml(pki_->intermediate_key) + "]\n";
  auto combined = ExportPolicy(*Parse(overlap), ExportFormat::kOkHttp, {});
  ASSERT_TRUE(combined.ok());
  EXPECT_TRUE(HasChange(*combined, ExportChangeKind::kLossy, "api.example.test", "*.example.test")) << Changes(*combined);
  EXPECT_FALSE(HasChange(*combined, ExportChangeKind::kLossy, "*.example.test", "api.example.test"));
  // The same pins on both patterns: combining changes nothing.
  auto same = ExportPolicy(*Parse("[[domain]]\nhost = \"api.example.test\"\n" + pins + "[[domain]]\nhost = \"*.example.test\"\n" + pins),
                           ExportFormat::kOkHttp, {});
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->lossy()) << Changes(*same);
}

// Browsers may cap HPKP's max-age at a year and pinion's importer reads a
// longer one as capped, so the export caps it and says the pins lapse sooner.
TEST_F(ExportTest, HpkpMaxAgeIsCappedAtOneYear) {
  auto far = ExportPolicy(*Policy("expires = 2099-01-01\n"), ExportFormat::kHpkp, {});
  ASSERT_TRUE(far.ok());
  EXPECT_TRUE(HasChange(*far, ExportChangeKind::kLossy, kHost, "capped at one year")) << Changes(*far);
  std::string line = far->text.substr(far->text.find("Public-Key-Pins: "));
  auto header = ParseHpkpHeader(line.substr(17, line.find('\n') - 17));
  ASSERT_TRUE(header.ok()) << header.error().ToString();
  EXPECT_EQ(*header->max_age_seconds, 31536000);
  ExportOptions within_a_year;
  within_a_year.now = TimePoint(std::chrono::sys_days(std::chrono::year(2098) / 6 / 1).time_since_epoch());
  auto near = ExportPolicy(*Policy("expires = 2099-01-01\n"), ExportFormat::kHpkp, within_a_year);
  ASSERT_TRUE(near.ok());
  EXPECT_FALSE(near->lossy()) << Changes(*near);
}

// TrustKit applies either of two nested include-subdomains domains to the
// names below both; pinion the most specific rule. Different pins: a change.
TEST_F(ExportTest, TrustKitNestedSubtreesWithDifferentPinsAreLossy) {
  std::string two = "pins = [" + PinToml(pki_->leaf_key) + ", " + PinToml(pki_->backup_key) + "]\n";
  std::string three = "pins = [" + PinToml(pki_->leaf_key) + ", " + PinToml(pki_->backup_key) + ", " +
                      PinToml(pki_->intermediate_key) + "]\n";
  auto nested = ExportPolicy(*Parse("[[domain]]\nhost = \"**.api.example.com\"\n" + two +
                                    "[[domain]]\nhost = \"**.v1.api.example.com\"\n" + three),
                             ExportFormat::kTrustKit, {});
  ASSERT_TRUE(nested.ok()) << nested.error().ToString();
  EXPECT_TRUE(HasChange(*nested, ExportChangeKind::kLossy, "**.v1.api.example.com", "may apply either domain")) << Changes(*nested);
  auto same = ExportPolicy(*Parse("[[domain]]\nhost = \"**.api.example.com\"\n" + two +
                                  "[[domain]]\nhost = \"**.v1.api.example.com\"\n" + two),
                           ExportFormat::kTrustKit, {});
  ASSERT_TRUE(same.ok()) << same.error().ToString();
  EXPECT_FALSE(HasChange(*same, ExportChangeKind::kLossy, "**.v1.api.example.com", "may apply either domain")) << Changes(*same);
}

TEST_F(ExportTest, ChangesSayHowMuchTheyMatter) {
  std::string anchors = "anchors = \"\"\"\n" + pki_->root.Pem() + "\"\"\"\n";
  auto android = ExportPolicy(*Policy("on_expiry = \"enforce\"\n" + anchors), ExportFormat::kAndroidNsc, {});
  ASSERT_TRUE(android.ok()) << android.error().ToString();
  EXPECT_FALSE(android->lossy()) << Changes(*android);  // exact once the bundle is copied
  EXPECT_TRUE(HasChange(*android, ExportChangeKind::kStep, kHost, "res/raw/pinion_anchors_0.pem"));
  auto hpkp = ExportPolicy(*Policy(""), ExportFormat::kHpkp, {});  // no expiry: 60 days
  ASSERT_TRUE(hpkp.ok());
  EXPECT_FALSE(hpkp->lossy()) << Changes(*hpkp);
  EXPECT_TRUE(HasChange(*hpkp, ExportChangeKind::kNote, kHost, "deprecated"));
  EXPECT_EQ(ExportChangeKindName(ExportChangeKind::kLossy), "lossy");
  ExportChange change{ExportChangeKind::kStep, "a.example.test", "do this"};
  EXPECT_EQ(change.ToString(), "step: a.example.test: do this");
}

}  // namespace
}  // namespace pinion::tooling
