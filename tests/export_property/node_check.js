// Drives modules made by `pinion export --to nodejs` through real TLS handshakes, for the
// export property test: one node process for the whole run.
//
//   node node_check.js CASES.json
//
// CASES.json: [{ "module": PATH, "host": NAME, "port": N, "ca": ROOTS.pem }, ...]. Each case
// connects to 127.0.0.1:port with SNI `host`, trusting `ca`, with the module's
// checkServerIdentity. Prints one line per case, in order: "accept", "pin" (the module refused
// the chain) or "error <code>".
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
    const socket = tls.connect({
      host: '127.0.0.1', port: c.port, servername: c.host, ca: caCache.get(c.ca),
      checkServerIdentity: (host, cert) => {
        const error = mod.checkServerIdentity(c.host, cert);
        if (error) pinFailure = true;
        return error;
      },
    });
    socket.setTimeout(10000, () => { socket.destroy(); resolve('error timeout'); });
    socket.on('secureConnect', () => { socket.end(); resolve('accept'); });
    socket.on('error', (e) => resolve(pinFailure ? 'pin' : 'error ' + (e.code || e.message)));
  });
}

(async () => {
  const lines = [];
  for (const c of cases) lines.push(await connect(c));
  process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
  process.exit(0);  // modules may keep report timers alive; the verdicts are all in
})();
