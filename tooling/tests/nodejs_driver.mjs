// Drives a module made by `pinion export --to nodejs` against loopback TLS
// servers, for nodejs_export_test.cc. One JSON argument:
//   { module, form: 'check' | 'agentOptions' | 'agent', host, port, ca?, count?,
//     reports?: { ...configureReports options }, reportCa? }
// Prints one JSON line: { results: [{ result, code?, ms }], events: [...] }.
import { createRequire } from 'module';
import fs from 'fs';
import https from 'https';
import tls from 'tls';

const args = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
const pins = require(args.module);
const events = [];
pins.configureReports({
  app: { id: 'com.example.node', version: '1.0' },
  onReport: (event) => events.push(event),
  ...(args.reportCa ? { ca: fs.readFileSync(args.reportCa) } : {}),
  ...(args.reports || {}),
});
const ca = args.ca ? fs.readFileSync(args.ca) : undefined;
const agent = args.form === 'agent' ? pins.createAgent(ca ? { ca } : {}) : null;

function viaTls() {
  const options = args.form === 'check'
    ? { ca, checkServerIdentity: pins.checkServerIdentity }
    : pins.agentOptions(args.host, { port: args.port, ...(ca ? { ca } : {}) });
  return new Promise((resolve) => {
    const socket = tls.connect({ ...options, host: '127.0.0.1', port: args.port, servername: args.host }, () => {
      socket.destroy();
      resolve({ result: 'accepted' });
    });
    socket.on('error', (error) => resolve({ result: 'rejected', code: error.code }));
  });
}

// Accepted once the handshake passed every check ('secureConnect' is emitted
// only then); the test servers answer without reading the request.
function viaAgent() {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome) => {
      if (!done) resolve(outcome);
      done = true;
    };
    const request = https.request({ host: '127.0.0.1', port: args.port, servername: args.host, path: '/',
                                    headers: { host: args.host }, agent });
    request.on('socket', (socket) => socket.on('secureConnect', () => {
      finish({ result: 'accepted' });
      request.destroy();
    }));
    request.on('error', (error) => finish({ result: 'rejected', code: error.code }));
    request.end();
  });
}

const results = [];
for (let i = 0; i < (args.count || 1); ++i) {
  const start = process.hrtime.bigint();
  const outcome = await (args.form === 'agent' ? viaAgent() : viaTls());
  outcome.ms = Number(process.hrtime.bigint() - start) / 1e6;
  results.push(outcome);
}
await pins.flushReports();
console.log(JSON.stringify({ results, events }));
