#!/usr/bin/env node
/*
 * A TrackService client built at run time from tskey's served WSDL by the npm `soap` package.
 *
 *   node trackservice.js BASE_URL key KEY [1.1|1.2]              CreditRemaining, key in SessionIDHeader
 *   node trackservice.js BASE_URL login USER PASSWORD [1.1|1.2]  Login -> CreditRemaining -> Logout,
 *                                                                then the logged-out session once more
 *
 * SOAP 1.1 by default. `soap` builds every envelope as SOAP 1.1 whichever port you call (binding the
 * WSDL's TrackServiceSoap12 port changes nothing on the wire), so 1.2 is the client option
 * forceSoap12Headers: the 1.2 envelope namespace and an application/soap+xml Content-Type with
 * action=. Prints one line per call. A refusal rejects the call's promise with an Error whose
 * .root holds the parsed fault and .response the HTTP response (500 for a SOAP 1.1 fault, 400
 * for a SOAP 1.2 Sender fault): "Fault: <faultstring> [<AuthFault Code>]" and "HTTP status: N"
 * go to stderr and the exit status is 1. TRACKSERVICE_TRACE=1 prints each call's envelope
 * namespaces and HTTP status to stderr.
 */
'use strict';

const soap = require('soap');

const TR_NS = 'http://TrackService.TrackRoad.com/';
const ENV_NS = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

function usage() {
  process.stderr.write('usage: node trackservice.js BASE_URL key KEY [1.1|1.2]\n' +
    '       node trackservice.js BASE_URL login USER PASSWORD [1.1|1.2]\n');
  return 2;
}

function envelopeNs(xml) {
  const m = /<(?:[\w.-]+:)?Envelope\b([^>]*)>/.exec(String(xml || ''));
  if (!m) return '?';
  return Object.values(ENV_NS).find((ns) => m[1].includes(`"${ns}"`)) || '?';
}

/* For the trace: the status of the last exchange, kept by a 'response' listener (soap keeps the
 * response headers, not the status line). A fault's status is also err.response.status. */
let lastStatus;

/* One operation with the SessionIDHeader (when sid is given) as the only SOAP header.
 * Resolves to [result, rawResponse, soapHeader, rawRequest], as soap's *Async methods do. */
async function call(client, op, args, sid) {
  client.clearSoapHeaders();
  if (sid !== undefined)
    client.addSoapHeader({ SessionIDHeader: { SessionID: sid } }, '', 'tns', TR_NS);
  try {
    return await client[op + 'Async'](args, { timeout: 10000 });
  } finally {
    if (process.env.TRACKSERVICE_TRACE)
      process.stderr.write(`trace: ${op} sent ${envelopeNs(client.lastRequest)}, got HTTP ` +
        `${lastStatus === undefined ? '?' : lastStatus} ${envelopeNs(client.lastResponse)}\n`);
  }
}

/* "Fault: Unauthorized: ... [INVALID]" from the fault soap parsed into err.root; SOAP 1.1 has
 * faultstring/detail, SOAP 1.2 Reason/Text and Detail. */
function describe(err) {
  const fault = err && err.root && err.root.Envelope && err.root.Envelope.Body &&
    err.root.Envelope.Body.Fault;
  if (!fault) return `Error: ${err && err.message}`;
  const text = (v) => (v && typeof v === 'object' && '$value' in v ? v.$value : v);
  const reason = text(fault.faultstring) || (fault.Reason && text(fault.Reason.Text)) || '';
  const detail = fault.detail || fault.Detail;
  const code = detail && detail.AuthFault && detail.AuthFault.Code;
  return `Fault: ${reason}${code ? ` [${code}]` : ''}`;
}

async function main(argv) {
  if (argv.length < 4 || !['key', 'login'].includes(argv[2])) return usage();
  const login = argv[2] === 'login';
  const version = argv[login ? 5 : 4] || '1.1';
  if (!ENV_NS[version]) return usage();
  const wsdl = argv[1].replace(/\/+$/, '') + '/TrackService.asmx?WSDL';
  try {
    const client = await soap.createClientAsync(wsdl, {
      forceSoap12Headers: version === '1.2',
      wsdl_options: { timeout: 10000 },
    });
    client.on('response', (body, response) => {
      lastStatus = response && response.status;
    });
    if (!login) {
      const [res] = await call(client, 'CreditRemaining', {}, argv[3]);
      console.log(`Credit: ${res.CreditRemainingResult.Credit}`);
      return 0;
    }
    const [res, , header] = await call(client, 'Login', { userName: argv[3], password: argv[4] || '' });
    console.log(`Login: ${res.LoginResult.Status}`);
    if (res.LoginResult.Status !== 'Success') return 1;
    // The session key comes back twice, as ASMX sends it: in LoginResult.Key and in the output
    // SessionIDHeader.
    const sid = (header && header.SessionIDHeader && header.SessionIDHeader.SessionID) ||
      res.LoginResult.Key;
    const [credit] = await call(client, 'CreditRemaining', {}, sid);
    console.log(`Credit: ${credit.CreditRemainingResult.Credit}`);
    await call(client, 'Logout', {}, sid);
    console.log('Logout: done');
    try {
      const [again] = await call(client, 'CreditRemaining', {}, sid);
      console.log(`After logout: Credit: ${again.CreditRemainingResult.Credit} (the session should be gone)`);
      return 1;
    } catch (err) {
      if (!(err && err.root && err.response)) throw err;
      console.log(`After logout: ${describe(err)} (HTTP ${err.response.status})`);
      return 0;
    }
  } catch (err) {
    process.stderr.write(describe(err) + '\n');
    if (err && err.response) process.stderr.write(`HTTP status: ${err.response.status}\n`);
    return 1;
  }
}

main(process.argv.slice(1)).then((rc) => { process.exitCode = rc; });
