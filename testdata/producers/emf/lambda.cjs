// Makes a plain `node` process look like the inside of a Lambda Node.js
// runtime to the EMF libraries, reproducibly:
//   - the clock is pinned to 2024-05-01T10:00:00.000Z (emf's tests inject the
//     same clock), so the fixtures do not change from one run to the next;
//   - console.log/info/warn/error get the prefix the Lambda runtime adds
//     (`<ISO time>\t<request id>\t<LEVEL>\t<message>`), as they do in Lambda.
// The Lambda environment variables themselves are set by generate.sh.
'use strict';
const util = require('node:util');

const FIXED = Date.UTC(2024, 4, 1, 10, 0, 0, 0);
const RealDate = Date;
class FixedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(FIXED);
    else super(...args);
  }
  static now() {
    return FIXED;
  }
}
globalThis.Date = FixedDate;

const REQUEST_ID = '3f1c2a9e-7b4d-4e8a-9c61-0d5e2f8a7b13';
for (const [method, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR']]) {
  console[method] = (...args) => {
    process.stdout.write(`${new Date().toISOString()}\t${REQUEST_ID}\t${level}\t${util.format(...args)}\n`);
  };
}

module.exports = { REQUEST_ID };
