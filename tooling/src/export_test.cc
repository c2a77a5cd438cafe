// Exports checked by their real consumers: curl, javac + OkHttp, node,
// plistutil, pugixml (Android's structure), the C++ compiler — each must
// accept the legitimate chain and reject the rogue one, as pinion does.
#include "pinion/tooling/export.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <pugixml.hpp>

#include "pinion/pin_formats.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"
#include "test_pki.h"
#include "tls_server.h"

namespace pinion::tooling {
namespace {

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
  static PolicySnapshot Policy(const std::string& extra = "expires = 2099-01-01\n") {
    auto policy = ParsePolicyToml("[policy]\nversion = 5\n[[domain]]\nhost = \"" + std::string(kHost) + "\"\n" + extra +
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
    dir_->Write("pins.plist", Export(format));
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

TEST_F(ExportTest, WhatATargetCannotExpressIsSaid) {
  auto policy = ParsePolicyToml("[policy]\nversion = 1\n"
                                "[[domain]]\nhost = \"*.wild.example.test\"\nexpires = 2099-01-01T12:00:00Z\npins = [{pin = \"" +
                                    pki_->leaf_key.SpkiPin().ToString() + "\"}, {pin = \"" + pki_->leaf.CertificatePin().ToString() + "\"}]\n"
                                "[[domain]]\nhost = \"ro.example.test\"\nmode = \"report-only\"\nreport_uri = [\"https://r.example.test/\"]\npins = [{pin = \"" +
                                    pki_->leaf_key.SpkiPin().ToString() + "\"}]\n",
                                "w.toml");
  ASSERT_TRUE(policy.ok());
  auto android = ExportPolicy(**policy, ExportFormat::kAndroidNsc, {});
  ASSERT_TRUE(android.ok());
  std::string warnings;
  for (const auto& w : android->warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("one-label wildcard"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("cert-sha256/"), std::string::npos);
  EXPECT_NE(warnings.find("takes a date only"), std::string::npos);
  EXPECT_NE(warnings.find("ro.example.test: Android cannot report"), std::string::npos);
  EXPECT_EQ(android->text.find("ro.example.test</domain>"), std::string::npos);  // left out, not enforced
  auto curl = ExportPolicy(**policy, ExportFormat::kCurl, {});
  EXPECT_EQ(curl.error().code(), ErrorCode::kInvalidArgument);  // several rules: --host needed
  auto curl_host = ExportPolicy(**policy, ExportFormat::kCurl, {.host = "x.wild.example.test"});
  ASSERT_TRUE(curl_host.ok());
  std::string curl_warnings;
  for (const auto& w : curl_host->warnings) curl_warnings += w + "\n";
  EXPECT_NE(curl_warnings.find("leaf key only"), std::string::npos) << curl_warnings;
  EXPECT_FALSE(ParseExportFormat("blackberry").ok());
}

}  // namespace
}  // namespace pinion::tooling
