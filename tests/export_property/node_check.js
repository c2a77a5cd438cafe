// Drives modules made by `pinion export --to nodejs` through real TLS handshakes, for the
// export property test: one node process for the whole run.
//
//   node node_check.js CASES.json
//
// CASES.json: [{ "module": PATH, "host": NAME, "port": N, "ca": ROOTS.pem }, ...]. Each case
// connects to 127.0.0.1:port with SNI `host` using the module's agentOptions(host, { ca }) (its
// anchors replace `ca` for rules that have some), or, for modules without it, `ca` and the
// module's checkServerIdentity. Prints one line per case, in order: "accept", "pin" (the module refused
// the chain), "tls" (validation refused it: anchors) or "error <code>".
'use strict';
const fs = require('fs');
const tls = require('tls');

const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const caCache = new Map();
process.on('warning', () => {});  // report-only warnings are expected; the verdict is what counts

function connect(c) {
  return new Promise((resolve) => {
    let mod;
    try {
      mod = require(c.module);
    } catch (e) {
      resolve('error require ' + String(e.message).split('\n')[0]);
      return;
    }
    if (!caCache.has(c.ca)) caCache.set(c.ca, fs.readFileSync(c.ca));
    let pinFailure = false;
    const ca = caCache.get(c.ca);
    // The module's own connection options (form 2 of docs/EXPORT.md: the rule's anchors as `ca`,
    // its checkServerIdentity) when it has them; the check alone otherwise.
    const options = typeof mod.agentOptions === 'function'
      ? mod.agentOptions(c.host, { ca })
      : { ca, checkServerIdentity: mod.checkServerIdentity };
    const check = options.checkServerIdentity;
    const socket = tls.connect({
      ...options, host: '127.0.0.1', port: c.port, servername: c.host,
      checkServerIdentity: (host, cert) => {
        const error = check(host, cert);
        if (error) pinFailure = true;
        return error;
      },
    });
    socket.setTimeout(10000, () => { socket.destroy(); resolve('error timeout'); });
    socket.on('secureConnect', () => { socket.end(); resolve('accept'); });
    socket.on('error', (e) => {
      if (pinFailure || String(e.code).startsWith('ERR_PINION')) resolve('pin');
      else if (/CERT|ISSUER|SELF_SIGNED|UNABLE_TO_VERIFY/.test(String(e.code))) resolve('tls');  // validation (anchors)
      else resolve('error ' + (e.code || e.message));
    });
  });
}

(async () => {
  const lines = [];
  for (const c of cases) lines.push(await connect(c));
  process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
  process.exit(0);  // modules may keep report timers alive; the verdicts are all in
})();
