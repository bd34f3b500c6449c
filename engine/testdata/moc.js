// Compiles one Motoko actor to an IC canister module with the npm "motoko"
// package. Used by regen.sh:
//   node moc.js SOURCE.mo OUT.wasm [PATH/TO/node_modules/motoko] [classical|eop]
// classical (the default, motoko 3.x): wasm32, no enhanced-orthogonal-
// persistence section. eop (motoko 4.x): the section and a memory64 heap.
// The compiler runs in memory, so the source is copied into its virtual
// file system under its base name; the actor must not import other files.
'use strict';

const fs = require('fs');
const path = require('path');

function main(argv) {
  if (argv.length < 2) {
    throw new Error('usage: node moc.js SOURCE.mo OUT.wasm [MOTOKO_PACKAGE_DIR] [classical|eop]');
  }
  const [src, out, pkg, mode = 'classical'] = argv;
  if (mode !== 'classical' && mode !== 'eop') {
    throw new Error(`unknown persistence ${mode}: want classical or eop`);
  }
  const mo = require(pkg || 'motoko');
  const name = path.basename(src);
  mo.write(name, fs.readFileSync(src, 'utf8'));
  const result = mo.wasm(name, 'ic');
  const wasm = Buffer.from(result.wasm);
  // Node's WebAssembly cannot load memory64 without a flag, so the
  // sections are read by hand (wasm-validate checks the module after).
  const { customs, memory64 } = sections(wasm, src);
  const eop = customs.includes('icp:private enhanced-orthogonal-persistence') ||
    customs.includes('icp:public enhanced-orthogonal-persistence');
  if (mode === 'classical' && (eop || memory64)) {
    throw new Error(`compile ${src}: got enhanced orthogonal persistence, want classical`);
  }
  if (mode === 'eop' && !(eop && memory64)) {
    throw new Error(`compile ${src}: got classical persistence (eop section ${eop}, memory64 ${memory64}), want enhanced orthogonal persistence`);
  }
  fs.writeFileSync(out, wasm);
  if (result.candid) {
    fs.writeFileSync(out.replace(/\.wasm$/, '.did'), result.candid);
  }
}

// sections returns the custom section names and whether the (one) memory
// is a memory64 (limits flag bit 0x04).
function sections(wasm, src) {
  if (wasm.length < 8 || wasm.readUInt32LE(0) !== 0x6d736100) {
    throw new Error(`compile ${src}: output is not wasm`);
  }
  let pos = 8;
  const leb = () => {
    let result = 0, shift = 0, b;
    do {
      b = wasm[pos++];
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return result;
  };
  const customs = [];
  let memory64 = false;
  while (pos < wasm.length) {
    const id = wasm[pos++];
    const size = leb();
    const end = pos + size;
    if (id === 0) {
      const n = leb();
      customs.push(wasm.toString('utf8', pos, pos + n));
    } else if (id === 5 && leb() > 0) {
      memory64 = (wasm[pos] & 0x04) !== 0;
    }
    pos = end;
  }
  return { customs, memory64 };
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`moc.js: ${err.message}`);
  process.exit(1);
}
