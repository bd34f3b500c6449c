// Compiles one Motoko actor to an IC canister module (wasm32, classical
// persistence) with the npm "motoko" package. Used by regen.sh:
//   node moc.js SOURCE.mo OUT.wasm [PATH/TO/node_modules/motoko]
// The compiler runs in memory, so the source is copied into its virtual
// file system under its base name; the actor must not import other files.
'use strict';

const fs = require('fs');
const path = require('path');

function main(argv) {
  if (argv.length < 2) {
    throw new Error('usage: node moc.js SOURCE.mo OUT.wasm [MOTOKO_PACKAGE_DIR]');
  }
  const [src, out, pkg] = argv;
  const mo = require(pkg || 'motoko');
  const name = path.basename(src);
  mo.write(name, fs.readFileSync(src, 'utf8'));
  const result = mo.wasm(name, 'ic');
  const wasm = Buffer.from(result.wasm);
  // Classical persistence keeps a 32-bit heap; enhanced orthogonal
  // persistence would emit memory64, which the engine must reject.
  if (!WebAssembly.validate(wasm)) {
    throw new Error(`compile ${src}: output is not valid wasm`);
  }
  const mod = new WebAssembly.Module(wasm);
  const custom = WebAssembly.Module.customSections(mod, 'icp:private enhanced-orthogonal-persistence')
    .concat(WebAssembly.Module.customSections(mod, 'icp:public enhanced-orthogonal-persistence'));
  if (custom.length > 0) {
    throw new Error(`compile ${src}: got enhanced orthogonal persistence, want classical`);
  }
  fs.writeFileSync(out, wasm);
  if (result.candid) {
    fs.writeFileSync(out.replace(/\.wasm$/, '.did'), result.candid);
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`moc.js: ${err.message}`);
  process.exit(1);
}
