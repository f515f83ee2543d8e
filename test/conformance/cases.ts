import type { Fixture } from './fixture.js';

/**
 * The registry the service serves during the suite, and the refs asked of both Nix
 * and `/resolve`. Each case names the lookup rule of src/libfetchers/registry.cc it
 * exercises and the outcome kind the fixture was built to produce; the test checks
 * Nix really produces that kind (so a fixture mistake cannot silently turn an
 * override test into a plain success) before comparing Nix with the service.
 */

type Attrs = Record<string, string | number | boolean>;

interface Entry {
  from: Attrs;
  to: Attrs;
  exact?: true;
}

export type OutcomeKind = 'ok' | 'invalid-ref' | 'not-found' | 'cycle' | 'override';

export interface Case {
  readonly ref: string;
  readonly rule: string;
  readonly expect: OutcomeKind;
}

/** Chain `long0 → flake:long1 → … → long98 → A`: 99 hops, the most Nix's counter of 100 allows. */
export const LONG_CHAIN = 99;

const HEX39 = 'abcdef0123456789abcdef0123456789abcdef0';

const indirect = (id: string, extra: Attrs = {}): Attrs => ({ type: 'indirect', id, ...extra });

export function buildRegistry(fx: Fixture): { version: 2; flakes: Entry[] } {
  const A = { type: 'git', url: `file://${fx.repoA}` };
  const B = { type: 'git', url: `file://${fx.repoB}` };
  const P = { type: 'path', path: fx.pathP };
  // Direct `from` entries match only on a later hop (a direct query never consults
  // the registry in 2.8's `nix flake metadata`); these URLs exist nowhere on disk.
  const nowhere = { type: 'git', url: `file://${fx.root}/nowhere` };
  const nowhere2 = { type: 'git', url: `file://${fx.root}/nowhere2` };

  const nonExact = (from: Attrs, to: Attrs): Entry => ({ from, to });
  const exact = (from: Attrs, to: Attrs): Entry => ({ from, to, exact: true });

  const flakes: Entry[] = [
    // Git targets and the ref/rev overrides.
    nonExact(indirect('a'), A),
    nonExact(indirect('amain'), { ...A, ref: 'main' }),
    nonExact(indirect('arev'), { ...A, rev: fx.revAMain }),
    // Boolean and integer attributes survive the trip (the path's mtime is fixed by the fixture).
    nonExact(indirect('ashallow'), { ...A, ref: 'main', shallow: true }),
    nonExact(indirect('pmtime'), { ...P, lastModified: fx.pathMtime }),
    exact(indirect('arevx'), { ...A, rev: fx.revAMain }),
    // `dir` on the entry (`to.dir` is taken out of `to` as the entry's extra attribute).
    nonExact(indirect('asub'), { ...A, dir: 'sub' }),
    // Exact entries, and exact vs non-exact in file order.
    exact(indirect('exa'), { ...A, ref: 'dev' }),
    exact(indirect('ex2', { ref: 'dev' }), { ...A, ref: 'dev' }),
    nonExact(indirect('ex2'), B),
    nonExact(indirect('ordr'), B),
    exact(indirect('ordr', { ref: 'dev' }), A),
    // A `from` with its own ref or rev: only that ref/rev matches, and it is not passed on.
    nonExact(indirect('pinned', { ref: 'dev' }), { ...A, ref: 'main' }),
    nonExact(indirect('pinned2', { ref: 'dev' }), A),
    nonExact(indirect('pinrev', { rev: fx.revAMain }), { ...A, ref: 'main', rev: fx.revAMain }),
    nonExact(indirect('pinboth', { ref: 'main', rev: fx.revAMain }), { ...A, ref: 'dev' }),
    // 39 hex digits are a ref, not a rev: only a `from` with that ref matches.
    exact(indirect('h39', { ref: HEX39 }), { ...A, ref: 'main' }),
    // First match wins.
    nonExact(indirect('first'), { ...A, ref: 'main' }),
    nonExact(indirect('first'), B),
    // Chains through indirect targets.
    nonExact(indirect('chain'), indirect('a')),
    nonExact(indirect('chain2'), indirect('chain')),
    nonExact(indirect('chainref'), indirect('a', { ref: 'dev' })),
    nonExact(indirect('chainpin'), indirect('pinned', { ref: 'dev' })),
    nonExact(indirect('chainsub'), indirect('asub')),
    nonExact(indirect('subchain'), { ...indirect('a'), dir: 'sub' }),
    nonExact(indirect('psubchain'), { ...indirect('psub'), dir: 'elsewhere' }),
    nonExact(indirect('dangle'), indirect('nowhere')),
    // Chains through direct `from` entries.
    nonExact(indirect('viadirect'), nowhere),
    nonExact(nowhere, { ...A, ref: 'dev' }),
    nonExact(indirect('viadirect2'), { ...nowhere2, ref: 'main' }),
    exact({ ...nowhere2, ref: 'main' }, B),
    // Path targets refuse ref and rev.
    nonExact(indirect('p'), P),
    nonExact(indirect('psub'), { ...P, dir: 'sub' }),
    nonExact(indirect('pchain'), indirect('p')),
    // Targets Nix cannot fetch offline: used only where Nix fails before fetching.
    nonExact(indirect('gh'), { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixpkgs-unstable' }),
    nonExact(indirect('tb'), { type: 'tarball', url: 'https://example.invalid/t.tar.gz' }),
    // Cycles: a 3-cycle, a self-loop, and the 100-step limit.
    nonExact(indirect('cyc1'), indirect('cyc2')),
    nonExact(indirect('cyc2'), indirect('cyc3')),
    nonExact(indirect('cyc3'), indirect('cyc1')),
    nonExact(indirect('self'), indirect('self')),
    nonExact(indirect('over'), indirect('long0')),
  ];
  for (let i = 0; i < LONG_CHAIN - 1; i++) {
    flakes.push(nonExact(indirect(`long${i}`), indirect(`long${i + 1}`)));
  }
  flakes.push(nonExact(indirect(`long${LONG_CHAIN - 1}`), A));
  return { version: 2, flakes };
}

export function buildCases(fx: Fixture): Case[] {
  const rA = fx.revAMain;
  const rDev = fx.revADev;
  return [
    // Non-exact entries and ref/rev overrides on git targets.
    { ref: 'a', rule: 'non-exact match, no override', expect: 'ok' },
    { ref: 'flake:a', rule: 'flake: URL form of an indirect ref', expect: 'ok' },
    { ref: 'flake:a/dev//', rule: 'flake: URL, empty path segments ignored', expect: 'ok' },
    { ref: 'flake:a?foo=bar', rule: 'flake: URL, query parameters other than dir ignored', expect: 'ok' },
    { ref: 'flake:a?dir=sub&dir=x', rule: 'flake: URL, first of duplicate parameters wins', expect: 'ok' },
    {
      ref: `flake:amain/${rA.toUpperCase()}`,
      rule: 'flake: URL, uppercase rev read as a rev, lowercased',
      expect: 'ok',
    },
    { ref: 'a/dev', rule: 'non-exact: query ref applied to a git target', expect: 'ok' },
    { ref: `a/main/${rA}`, rule: 'non-exact: query ref and rev applied', expect: 'ok' },
    { ref: `flake:a/dev/${rDev}`, rule: 'flake: URL with ref and rev', expect: 'ok' },
    { ref: `a/${rA}`, rule: 'git target: rev without ref after a non-exact hop', expect: 'override' },
    { ref: 'amain', rule: 'target ref kept when the query has none', expect: 'ok' },
    { ref: 'amain/dev', rule: "query ref replaces the target's", expect: 'ok' },
    { ref: `amain/${rA}`, rule: "query rev added to the target's ref", expect: 'ok' },
    { ref: `amain/${rA.toUpperCase()}`, rule: 'uppercase rev is read as a rev, lowercased', expect: 'ok' },
    { ref: 'arev', rule: 'git target with rev but no ref, non-exact hop', expect: 'override' },
    { ref: 'ashallow/dev', rule: 'boolean target attribute kept, ref override applied', expect: 'ok' },
    { ref: 'pmtime', rule: 'integer target attribute kept', expect: 'ok' },
    { ref: 'arevx', rule: 'git target with rev but no ref, exact hop (no overrides applied)', expect: 'ok' },
    // Exact entries.
    { ref: 'exa', rule: 'exact match', expect: 'ok' },
    { ref: 'exa/main', rule: 'exact entry does not match a query with a ref', expect: 'not-found' },
    { ref: `exa/dev/${rDev}`, rule: 'exact entry does not match a query with ref and rev', expect: 'not-found' },
    { ref: 'ex2/dev', rule: 'exact entry with a ref matches that ref', expect: 'ok' },
    { ref: 'ex2', rule: 'exact entry skipped, later non-exact matches', expect: 'ok' },
    { ref: 'ex2/main', rule: 'exact entry skipped, non-exact applies the ref', expect: 'ok' },
    { ref: 'ordr/dev', rule: 'earlier non-exact entry wins over a later exact one', expect: 'ok' },
    // `from` with its own ref or rev.
    { ref: 'pinned/dev', rule: 'from with a ref matches it; target ref kept', expect: 'ok' },
    { ref: 'pinned', rule: 'from with a ref does not match a bare id', expect: 'not-found' },
    { ref: 'pinned/main', rule: 'from with a ref does not match another ref', expect: 'not-found' },
    { ref: `pinned/dev/${rDev}`, rule: 'from with a ref does not match ref plus rev', expect: 'not-found' },
    { ref: 'pinned2/dev', rule: "from's ref is not applied to the target", expect: 'ok' },
    { ref: `pinrev/${rA}`, rule: 'from with a rev matches that rev', expect: 'ok' },
    { ref: `pinrev/main/${rA}`, rule: 'from with a rev does not match ref plus rev', expect: 'not-found' },
    { ref: `pinboth/main/${rA}`, rule: 'from with ref and rev matches both; neither passed on', expect: 'ok' },
    { ref: 'pinboth/main', rule: 'from with ref and rev does not match the ref alone', expect: 'not-found' },
    { ref: `h39/${HEX39}`, rule: '39 hex digits are a ref', expect: 'ok' },
    // First match wins.
    { ref: 'first', rule: 'first matching entry wins', expect: 'ok' },
    { ref: 'first/dev', rule: 'first matching entry wins, with an override', expect: 'ok' },
    // Chains.
    { ref: 'chain', rule: 'chain through an indirect target', expect: 'ok' },
    { ref: 'chain/dev', rule: 'ref carried through a chain', expect: 'ok' },
    { ref: `chain/main/${rA}`, rule: 'ref and rev carried through a chain', expect: 'ok' },
    { ref: `chain/${rA}`, rule: 'rev without ref reaches a git target through a chain', expect: 'override' },
    { ref: 'chain2/dev', rule: 'two indirect hops', expect: 'ok' },
    { ref: 'chainref', rule: 'indirect target with its own ref', expect: 'ok' },
    { ref: 'chainref/main', rule: "query ref replaces an indirect target's ref", expect: 'ok' },
    { ref: 'chainpin', rule: 'chain into a from-with-ref entry', expect: 'ok' },
    { ref: 'chainpin/main', rule: 'chain whose later hop finds nothing', expect: 'not-found' },
    { ref: 'dangle', rule: 'dangling indirect target', expect: 'not-found' },
    { ref: `long0`, rule: '99 hops: within the 100-step limit', expect: 'ok' },
    { ref: `long1/dev`, rule: 'long chain carries the ref', expect: 'ok' },
    { ref: 'over', rule: '100 hops: the 101st step is a cycle', expect: 'cycle' },
    // `dir`.
    { ref: 'asub', rule: "entry's dir", expect: 'ok' },
    { ref: 'asub/dev', rule: "entry's dir with a ref override", expect: 'ok' },
    { ref: 'flake:asub?dir=elsewhere', rule: "entry's dir replaces the query's", expect: 'ok' },
    { ref: 'flake:a?dir=sub', rule: "query's dir kept when no entry sets one", expect: 'ok' },
    { ref: 'chainsub', rule: 'dir set on a later hop', expect: 'ok' },
    { ref: 'subchain', rule: "dir of an earlier hop replaced by a later hop's (none)", expect: 'ok' },
    { ref: 'flake:subchain?dir=sub', rule: "query's dir after an earlier hop's dir was dropped", expect: 'ok' },
    { ref: 'psubchain', rule: "dir of an earlier hop replaced by a later hop's", expect: 'ok' },
    // Direct `from` reached through an indirect hop.
    { ref: 'viadirect', rule: 'direct from entry matches on a later hop', expect: 'ok' },
    { ref: 'viadirect/main', rule: 'direct from entry, non-exact, ref carried', expect: 'ok' },
    { ref: 'viadirect2', rule: 'direct from entry, exact, with a ref', expect: 'ok' },
    // Path targets.
    { ref: 'p', rule: 'path target', expect: 'ok' },
    { ref: 'psub', rule: 'path target with dir', expect: 'ok' },
    { ref: 'flake:p?dir=sub', rule: "path target with the query's dir", expect: 'ok' },
    { ref: 'p/main', rule: 'path target refuses a ref', expect: 'override' },
    { ref: `p/${rA}`, rule: 'path target refuses a rev', expect: 'override' },
    { ref: 'pchain/dev', rule: 'path target refuses a ref carried through a chain', expect: 'override' },
    // Offline-unfetchable targets, failing before any fetch.
    { ref: `gh/main/${rA}`, rule: 'github target refuses both ref and rev', expect: 'override' },
    { ref: 'tb/main', rule: 'tarball target refuses a ref', expect: 'override' },
    { ref: `tb/${rA}`, rule: 'tarball target refuses a rev', expect: 'override' },
    // Cycles and not found.
    { ref: 'cyc1', rule: '3-cycle', expect: 'cycle' },
    { ref: 'cyc3/dev', rule: '3-cycle entered elsewhere, with a ref', expect: 'cycle' },
    { ref: 'self', rule: 'self-loop', expect: 'cycle' },
    { ref: 'nope', rule: 'no entry', expect: 'not-found' },
    { ref: 'nope/main', rule: 'no entry, with a ref', expect: 'not-found' },
    { ref: 'flake:nope?dir=x', rule: 'no entry, dir not part of the name', expect: 'not-found' },
    // Parse errors, before any lookup.
    { ref: 'a/release/foo', rule: 'third segment must be a commit hash', expect: 'invalid-ref' },
    // Direct refs that match no entry: 2.8 does not consult the registry for them, and
    // the service's lookup finds nothing, so both answer the ref itself. No `dir` here:
    // 2.8 refuses `dir` in a `path:` URL and leaves it inside a git input's `url`
    // (`url: file:///…/a?dir=sub` besides `dir: sub`), where current Nix takes it out.
    { ref: `git+file://${fx.repoA}?ref=dev`, rule: 'direct git ref, no entry', expect: 'ok' },
    { ref: `path:${fx.pathP}`, rule: 'direct path ref, no entry', expect: 'ok' },
  ];
}
