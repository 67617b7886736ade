#!/usr/bin/env node
// Where the bytes of Intel PT traces go: runs every kernel fixture script (fixtures/fs/*) with the
// PT recorder and histograms the packet types by bytes over each trace.pt, with our packet decoder,
// then prints bits per traced instruction. The TNT bits per instruction (one per conditional branch
// and compressed return) bound what PT can reach: at six bits a byte, a run needs at least
// 8/6 × that many bits per instruction; the floor column adds what no encoder can leave out (see
// ptSizeFloor: the TIP.PGE/TIP.PGD pairs of host calls, one PSB+). Needs `npm run -s build` first.
//
//   node scripts/pt-histogram.js [--keep DIR] [fixture...]   run the fixtures (default: all)
//   node scripts/pt-histogram.js --runs RUNDIR...              histogram existing run directories
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { buildKernel, fixtureScript, listFixtures, prepareFixture, runScript } = require('@fasmcov/tracer');
const { dumpPackets, ptSizeFloor, readRunInfo } = require('@fasmcov/report');

const root = path.resolve(__dirname, '..');

/** Packet class for the histogram: TNT by size, IP packets by type and IPBytes. */
function packetClass(p) {
  if (p.type === 'tnt') return p.long ? 'tnt-long' : 'tnt-short';
  if (p.type === 'tip' || p.type === 'tip-pge' || p.type === 'tip-pgd' || p.type === 'fup')
    return `${p.type}/ipb${p.ipBytes}`;
  return p.type;
}

/** Adds the packets of one trace to `hist` (class → {count, bytes}); returns the TNT bits seen. */
function histogram(trace, hist) {
  const { packets, errors } = dumpPackets(trace);
  if (errors.length) throw new Error(`packet errors: ${errors.map((e) => e.message).join('; ')}`);
  let tntBits = 0;
  for (const { packet, size } of packets) {
    const h = hist.get(packetClass(packet)) ?? { count: 0, bytes: 0 };
    h.count++;
    h.bytes += size;
    hist.set(packetClass(packet), h);
    if (packet.type === 'tnt') tntBits += packet.count;
  }
  return tntBits;
}

function runFixtures(names, keep) {
  const fixtures = path.join(root, 'fixtures/fs');
  const work = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pt-histogram-'));
  const kernel = buildKernel(path.join(root, 'kernel'), path.join(work, 'kernel'));
  const object = fs.readFileSync(kernel.object);
  const dirs = [];
  for (const name of names.length ? names : listFixtures(fixtures)) {
    const f = prepareFixture(
      path.join(fixtures, name),
      path.join(root, 'fixtures/images'),
      path.join(work, name),
    );
    const runDir = path.join(work, name, 'run');
    try {
      runScript({
        kernel: object,
        kernelFile: kernel.object,
        ...fixtureScript(f),
        maxInstructions: 2e10,
        traces: ['pt'],
        runDir,
      });
    } catch (e) {
      // Fixtures that end in a guest fault still write their run directory.
      if (!fs.existsSync(runDir)) throw e;
    }
    dirs.push(runDir);
  }
  return dirs;
}

function main(argv) {
  const runsAt = argv.indexOf('--runs');
  const keepAt = argv.indexOf('--keep');
  const keep = keepAt >= 0 ? path.resolve(argv[keepAt + 1]) : undefined;
  const names = argv.filter((_, i) => keepAt < 0 || (i !== keepAt && i !== keepAt + 1));
  const dirs = runsAt >= 0 ? argv.slice(runsAt + 1) : runFixtures(names, keep);
  const hist = new Map();
  let bytes = 0;
  let insns = 0;
  let tntBits = 0;
  let floorBytes = 0;
  console.log('run                          bytes       instr  bits/instr  TNT bits/instr  floor');
  for (const dir of dirs) {
    const trace = new Uint8Array(fs.readFileSync(path.join(dir, 'trace.pt')));
    const info = readRunInfo(dir);
    const bits = histogram(trace, hist);
    tntBits += bits;
    bytes += trace.length;
    insns += info.tracedInstructions;
    const floor = ptSizeFloor(trace).bytes;
    floorBytes += floor;
    console.log(
      `${path.basename(path.dirname(dir)).padEnd(24)} ${String(trace.length).padStart(9)} ` +
        `${String(info.tracedInstructions).padStart(11)} ${((trace.length * 8) / info.tracedInstructions).toFixed(3).padStart(11)} ` +
        `${(bits / info.tracedInstructions).toFixed(3).padStart(15)} ` +
        `${((floor * 8) / info.tracedInstructions).toFixed(3).padStart(6)}`,
    );
  }
  console.log('\npacket class        count        bytes   share');
  for (const [name, h] of [...hist].sort((a, b) => b[1].bytes - a[1].bytes))
    console.log(
      `${name.padEnd(16)} ${String(h.count).padStart(8)} ${String(h.bytes).padStart(12)}  ` +
        `${((100 * h.bytes) / bytes).toFixed(1).padStart(5)}%`,
    );
  const tntBytes = (hist.get('tnt-long')?.bytes ?? 0) + (hist.get('tnt-short')?.bytes ?? 0);
  console.log(
    `\ntotal: ${bytes} bytes, ${insns} instructions, ${((bytes * 8) / insns).toFixed(3)} bits/instr; ` +
      `${tntBits} TNT bits in ${tntBytes} bytes (${(tntBits / Math.max(1, tntBytes)).toFixed(2)} bits per TNT byte); ` +
      `floor ${((floorBytes * 8) / insns).toFixed(3)} bits/instr`,
  );
}

main(process.argv.slice(2));
