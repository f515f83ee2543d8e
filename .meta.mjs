import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const r = await build({ entryPoints: ['src/index.ts'], bundle: true, format: 'esm', minify: true, write: false, metafile: true, platform: 'neutral', external: ['cloudflare:*','node:*'], conditions: ['workerd','worker','browser'], mainFields: ['module','main'], outfile: '/tmp/x.js', logLevel: 'silent' });
const out = Object.values(r.metafile.outputs)[0];
console.log('total', out.bytes, 'gzip', gzipSync(r.outputFiles[0].contents, {level:9}).length);
const groups = {};
for (const [f, v] of Object.entries(out.inputs)) {
  const m = f.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  const k = m ? m[1] : f.split('/').slice(0, 2).join('/');
  groups[k] = (groups[k] ?? 0) + v.bytesInOutput;
}
for (const [k, v] of Object.entries(groups).sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(k, (v/1024).toFixed(1));
const big = Object.entries(out.inputs).sort((a,b)=>b[1].bytesInOutput-a[1].bytesInOutput).slice(0,Number(process.argv[2]??30));
for (const [f,v] of big) console.log('  ', f, (v.bytesInOutput/1024).toFixed(1));
// who imports X
const target = process.argv[3];
if (target) for (const [f, v] of Object.entries(r.metafile.inputs)) for (const i of v.imports) if (i.path.includes(target)) console.log('imp', f, '->', i.path);
