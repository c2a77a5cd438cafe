// nodejs: a CommonJS module whose checkServerIdentity checks the chain's SPKI
// hashes after Node's own host-name check, for tls.connect / https.request.
#include "export_internal.h"
#include "pinion/certificate_info.h"
#include "pinion/host_pattern.h"

namespace pinion::tooling::internal {

Result<ExportResult> ExportNodeJs(const Policy& policy, const ExportOptions& options) {
  ExportResult result;
  std::string rules;
  for (const DomainRule& rule : policy.rules()) {
    std::vector<const PinEntry*> pins = SpkiSha256Pins(rule, "the Node.js module", result.warnings);
    if (pins.empty()) continue;
    if (!rule.anchors.use_system()) {
      result.warnings.push_back(rule.host.ToString() + ": pass the anchors bundle " + rule.anchors.path +
                                " as the `ca` option of tls.connect; the module checks pins only");
    }
    const char* kind = rule.host.kind() == HostPatternKind::kExact      ? "exact"
                       : rule.host.kind() == HostPatternKind::kWildcard ? "wildcard"
                                                                        : "subtree";
    rules += "  { base: " + Quoted(rule.host.base(), Language::kJavaScript) + ", kind: '" + kind +
             "', reportOnly: " + (rule.mode == EnforcementMode::kReportOnly ? "true" : "false") +
             ", expires: " + (rule.expires ? std::to_string(rule.expires->time_since_epoch().count() * 1000) : "null") +
             ", failOpenAfterExpiry: " + (rule.on_expiry == ExpiryAction::kAllow ? "true" : "false") + ",\n    pins: [\n";
    for (const PinEntry* entry : pins) {
      rules += "      " + Quoted(entry->pin.Base64(), Language::kJavaScript) + "," +
               (entry->label.empty() ? "" : "  // " + CommentText(entry->label)) + "\n";
    }
    rules += "    ] },\n";
  }
  if (rules.empty()) return Error(ErrorCode::kInvalidArgument, "no domain of the policy can be expressed for Node.js");
  result.text = LineComment(HeaderLines(policy, options, "Node.js: pass checkServerIdentity to tls.connect or https.request"), "// ") + R"JS('use strict';

const crypto = require('crypto');
const tls = require('tls');

// Most specific rule first: exact, then one-label wildcard, then the longest subtree.
const RULES = [
)JS" + rules + R"JS(];

function findRule(host) {
  const name = host.toLowerCase().replace(/\.$/, '');
  const exact = RULES.find((r) => r.kind === 'exact' && r.base === name);
  if (exact) return exact;
  const dot = name.indexOf('.');
  const parent = dot > 0 ? name.slice(dot + 1) : null;
  const wildcard = RULES.find((r) => r.kind === 'wildcard' && r.base === parent);
  if (wildcard) return wildcard;
  const subtrees = RULES.filter((r) => r.kind === 'subtree' && (name === r.base || name.endsWith('.' + r.base)));
  subtrees.sort((a, b) => b.base.length - a.base.length);
  return subtrees[0] || null;
}

// The SubjectPublicKeyInfo pin of one certificate. (cert.pubkey is not the
// SPKI for every key type: for EC keys it is the bare point.)
function spkiPin(cert) {
  const spki = new crypto.X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(spki).digest('base64');
}

// The chain Node verified, leaf first: issuerCertificate links end at the
// trust anchor (a self-signed certificate points to itself).
function chainPins(cert) {
  const pins = [];
  const seen = new Set();
  for (let c = cert; c && c.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    pins.push(spkiPin(c));
  }
  return pins;
}

function checkServerIdentity(host, cert) {
  const error = tls.checkServerIdentity(host, cert);  // host name first, as always
  if (error) return error;
  const rule = findRule(host);
  if (!rule) return undefined;                          // not pinned
  if (rule.expires !== null && Date.now() >= rule.expires && rule.failOpenAfterExpiry) return undefined;
  const actual = chainPins(cert);
  if (actual.some((pin) => rule.pins.includes(pin))) return undefined;
  const message = `pinion: no expected pin for ${host}; chain sha256/${actual.join(', sha256/')}; ` +
                  `expected one of sha256/${rule.pins.join(', sha256/')}`;
  if (rule.reportOnly) {
    process.emitWarning(message, 'PinionReportOnly');
    return undefined;
  }
  const failure = new Error(message);
  failure.code = 'ERR_PINION_PIN_MISMATCH';
  return failure;
}

module.exports = { checkServerIdentity, findRule, RULES };
)JS";
  return result;
}

}  // namespace pinion::tooling::internal
