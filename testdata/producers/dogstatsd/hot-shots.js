// Sends every kind of DogStatsD message through npm hot-shots to a UDP
// listener on a loopback port and writes the datagrams it receives to the
// fixture named on the command line (default hot-shots.datagrams), in the
// same record format as datadog-go/main.go:
//
//   --- datagram <n> phase=<phase> bytes=<len>
//   <exactly len bytes of payload>
//
// followed by a newline. Sampled metrics (rate < 1) are sent until one sample
// passes the client's random sampling, so the fixture does not depend on luck.
// Run it through generate.sh.
'use strict';

const dgram = require('node:dgram');
const fs = require('node:fs');
const StatsD = require('hot-shots');

const out = process.argv[2] || 'hot-shots.datagrams';
const tags = ['env:prod', 'team', 'url:http://example.com:8080/a'];
const ts = new Date(1700000000 * 1000);
const records = [];
let phase = 'none';

const server = dgram.createSocket('udp4');
server.on('message', (msg) => records.push({ phase, payload: Buffer.from(msg) }));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// drain waits until no datagram arrived for quietMs and returns how many came
// since records held start of them.
async function drain(start, quietMs) {
  let seen = -1;
  while (seen !== records.length) {
    seen = records.length;
    await sleep(quietMs);
  }
  return records.length - start;
}

function client(port, extra) {
  return new StatsD({
    host: '127.0.0.1',
    port,
    prefix: 'hs.',
    globalTags: ['service:producer'],
    includeDataDogTags: false,
    telemetry: false,
    originDetection: false,
    maxBufferSize: 0,
    errorHandler: (err) => { throw err; },
    ...extra,
  });
}

const close = (c) => new Promise((resolve, reject) => c.close((err) => (err ? reject(err) : resolve())));

async function main() {
  await new Promise((resolve) => server.bind(0, '127.0.0.1', resolve));
  const port = server.address().port;

  // 1. One message per datagram, every type and option.
  phase = 'unbuffered';
  let mark = records.length;
  let c = client(port);
  c.gauge('queue.depth', 42.5, tags);
  c.increment('orders.placed', 3, tags);
  c.increment('logins');
  c.decrement('slots.free', 1, ['pool:a']);
  c.histogram('payload.size', 2048, tags);
  c.distribution('request.latency', 0.125, tags);
  c.set('users.unique', 'alice', tags);
  c.timing('db.query', 1.5, tags);
  c.gauge('backlog', 7, { tags, timestamp: ts });
  c.increment('retries', 2, { tags, timestamp: ts });
  c.event('deploy finished', 'version 1.2.3\nis live', {
    date_happened: ts, hostname: 'host-1', aggregation_key: 'deploy', priority: 'low',
    source_type_name: 'jenkins', alert_type: 'success',
  }, tags);
  // hot-shots counts title and text lengths in UTF-16 code units, not bytes:
  // the parser warns (dogstatsd/event-length-mismatch) on this one.
  c.event('héllo wörld', 'ünïcode text');
  c.check('db.up', c.CHECKS.WARNING, { date_happened: ts, hostname: 'host-1', message: 'slow replies' }, tags);
  c.check('cache.up', c.CHECKS.OK);
  await close(c);
  if (await drain(mark, 300) === 0) throw new Error('unbuffered: nothing received');

  // 2. Sample rates: each sampled metric is sent until one sample passes.
  phase = 'sampled';
  for (const send of [
    (s) => s.increment('sampled.count', 1, 0.5, tags),
    (s) => s.histogram('sampled.histogram', 5, 0.5, tags),
    (s) => s.distribution('sampled.distribution', 6, 0.25, tags),
    (s) => s.timing('sampled.timing', 7, 0.5, tags),
  ]) {
    let got = 0;
    for (let i = 0; i < 200 && got === 0; i++) {
      mark = records.length;
      const s = client(port);
      send(s);
      await close(s);
      got = await drain(mark, 50);
    }
    if (got === 0) throw new Error('sampled message never sent');
  }

  // 3. Buffered: several messages per datagram, separated by '\n'.
  phase = 'buffered';
  mark = records.length;
  c = client(port, { maxBufferSize: 1400, bufferFlushInterval: 3600 * 1000 });
  for (let i = 0; i < 3; i++) {
    c.gauge('buffered.gauge', i, tags);
    c.increment('buffered.count', i + 1, tags);
    c.histogram('buffered.histogram', 10 * i);
  }
  c.event('buffered event', 'text');
  c.check('buffered.check', c.CHECKS.CRITICAL);
  await close(c);
  if (await drain(mark, 300) === 0) throw new Error('buffered: nothing received');

  // 4. Client-side aggregation: counts summed, gauges last value, sets unique.
  phase = 'aggregated';
  mark = records.length;
  c = client(port, { maxBufferSize: 1400, bufferFlushInterval: 3600 * 1000, aggregation: { flushInterval: 3600 * 1000 } });
  for (let i = 0; i < 5; i++) {
    c.increment('agg.count', tags);
    c.gauge('agg.gauge', i, tags);
    c.set('agg.set', ['a', 'b', 'a', 'c', 'b'][i], tags);
    c.histogram('agg.histogram', i, tags); // histograms are not aggregated
  }
  await close(c);
  if (await drain(mark, 300) === 0) throw new Error('aggregated: nothing received');

  const head = [
    '# DogStatsD datagrams sent by npm hot-shots to a loopback UDP port.',
    '# Generated by testdata/producers/dogstatsd/generate.sh; do not edit.',
    "# Record: '--- datagram <n> phase=<phase> bytes=<len>' newline, <len> payload bytes, newline.",
    '',
  ].join('\n');
  const parts = [Buffer.from(head)];
  records.forEach((r, i) => {
    parts.push(Buffer.from(`--- datagram ${i + 1} phase=${r.phase} bytes=${r.payload.length}\n`), r.payload, Buffer.from('\n'));
  });
  fs.writeFileSync(out, Buffer.concat(parts));
  server.close();
}

main().catch((err) => {
  console.error('hot-shots:', err);
  process.exit(1);
});
