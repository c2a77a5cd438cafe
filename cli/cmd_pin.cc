// pinion pin FILE... — the pins of every certificate, key and CSR in the inputs.
#include <iostream>
#include <iterator>
#include <memory>

#include "commands.h"
#include "output.h"
#include "pinion/certificate_info.h"
#include "pinion/pin_formats.h"
#include "pinion/pin_source.h"

namespace pinion::cli {
namespace {

struct PinOptions {
  std::vector<std::string> files;
  std::string format = "text";
  std::string algorithm = "sha256";
  bool json = false;
};

Result<std::vector<PinSource>> ReadInput(const std::string& file) {
  if (file != "-") return ReadPinSourcesFromFile(file);
  std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (data.size() > kMaxPinSourceInputBytes) {
    return Error(ErrorCode::kInputTooLarge, "standard input is too large").WithSource("-");
  }
  return ReadPinSources({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()}, "<stdin>");
}

CliResult<std::vector<PinSource>> ReadInputs(const std::vector<std::string>& files) {
  std::vector<PinSource> sources;
  for (const std::string& file : files) {
    PINION_ASSIGN_OR_RETURN(auto read,
                            Hinted(ReadInput(file), "Give PEM or DER certificates, public keys, private keys or CSRs."));
    std::move(read.begin(), read.end(), std::back_inserter(sources));
  }
  return sources;
}

void PrintJson(const std::vector<PinSource>& sources, HashAlgorithm algorithm) {
  nlohmann::json out = nlohmann::json::array();
  for (const PinSource& source : sources) {
    nlohmann::json item = {{"origin", source.origin},
                           {"kind", PinSourceKindName(source.kind)},
                           {"key_type", source.key_type},
                           {"subject", source.subject},
                           {"spki_pin", source.SpkiPin(algorithm).ToString()}};
    if (auto certificate_pin = source.CertificatePin(algorithm)) {
      item["certificate_pin"] = certificate_pin->ToString();
      item["certificate_fingerprint"] = certificate_pin->Hex(':');
      if (auto info = DescribeCertificate(source.certificate_der)) {
        item["issuer"] = info->issuer;
        item["not_before"] = FormatUtc(info->not_before);
        item["not_after"] = FormatUtc(info->not_after);
      }
    }
    out.push_back(item);
  }
  std::cout << out.dump(2) << "\n";
}

CommandResult Run(const PinOptions& options) {
  std::string format = options.json ? "json" : options.format;
  HashAlgorithm algorithm = options.algorithm == "sha384"   ? HashAlgorithm::kSha384
                            : options.algorithm == "sha512" ? HashAlgorithm::kSha512
                                                            : HashAlgorithm::kSha256;
  if (algorithm != HashAlgorithm::kSha256 && format != "text" && format != "json" &&
      format != "okhttp" && format != "base64") {
    return CliFailure(Error(ErrorCode::kInvalidArgument, "--format " + format + " only expresses SHA-256 pins")
                          .WithField("--algorithm"),
                      "Use --algorithm sha256 with this --format, or --format text, json, okhttp or base64.");
  }
  PINION_ASSIGN_OR_RETURN(std::vector<PinSource> sources, ReadInputs(options.files));
  if (format == "json") {
    PrintJson(sources, algorithm);
    return kExitOk;
  }
  if (format == "curl") {
    std::vector<Pin> pins;
    for (const PinSource& source : sources) pins.push_back(source.SpkiPin());
    std::cout << *FormatCurlPinList(pins) << "\n";
    return kExitOk;
  }
  std::string hpkp;
  for (const PinSource& source : sources) {
    Pin pin = source.SpkiPin(algorithm);
    if (format == "okhttp") {
      std::cout << pin.ToString() << "\n";
    } else if (format == "base64") {
      std::cout << pin.Base64() << "\n";
    } else if (format == "hpkp") {
      hpkp += (hpkp.empty() ? "" : "; ") + std::string("pin-sha256=\"") + pin.Base64() + "\"";
    } else if (format == "hex") {
      // Certificate fingerprints where there is a certificate; key hashes otherwise.
      auto certificate_pin = source.CertificatePin();
      std::cout << (certificate_pin ? certificate_pin->Hex(':') : pin.Hex(':')) << "  "
                << source.origin << (certificate_pin ? "" : " (SPKI SHA-256: not a certificate)") << "\n";
    } else {
      std::cout << Style(source.origin, Tone::kBold) << "  " << PinSourceKindName(source.kind) << "  "
                << source.key_type << (source.subject.empty() ? "" : "  " + source.subject) << "\n"
                << "  spki pin:    " << Style(pin.ToString(), Tone::kGood) << "\n";
      if (auto certificate_pin = source.CertificatePin(algorithm)) {
        std::cout << "  cert pin:    " << certificate_pin->ToString() << "\n"
                  << "  fingerprint: " << Style(certificate_pin->Hex(':'), Tone::kDim) << "\n";
      }
    }
  }
  if (format == "hpkp") std::cout << hpkp << "\n";
  return kExitOk;
}

}  // namespace

CommandRunner AttachPin(CLI::App& app) {
  auto options = std::make_shared<PinOptions>();
  app.footer(
      "Print the pins of every certificate, public key, private key and CSR in the inputs "
      "(PEM with any number of blocks, or DER). A private key is pinned by its public half, "
      "so an offline backup key can be pinned before any certificate exists. '-' reads stdin.");
  app.add_option("files", options->files, "Input files")->required()->type_name("FILE");
  app.add_option("--format", options->format,
                 "text (default), okhttp (sha256/…), curl (sha256//…;…), hpkp (pin-sha256=\"…\"), "
                 "hex (certificate fingerprints), base64 (digest only), json")
      ->check(CLI::IsMember({"text", "okhttp", "curl", "hpkp", "hex", "base64", "json"}));
  app.add_option("--algorithm", options->algorithm, "sha256 (default), sha384 or sha512")
      ->check(CLI::IsMember({"sha256", "sha384", "sha512"}));
  app.add_flag("--json", options->json, "Same as --format json (errors too: {\"error\": {...}})");
  return [options] { return Run(*options); };
}

}  // namespace pinion::cli
