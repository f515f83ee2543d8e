/** Registries used by the Worker tests (test data written for them, not any real registry). */
export const CREATED = '2026-03-01T12:00:00Z';
const REV = '0123456789abcdef0123456789abcdef01234567';

export const teamRegistry = {
  version: 2,
  flakes: [
    {
      from: { type: 'indirect', id: 'nixpkgs', ref: 'nixos-24.05' },
      to: { type: 'tarball', url: 'https://channels.example.org/nixos-24.05/nixexprs.tar.xz' },
      exact: true,
    },
    {
      from: { type: 'indirect', id: 'nixpkgs' },
      to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixpkgs-unstable' },
    },
    { from: { type: 'indirect', id: 'a' }, to: { type: 'git', url: 'file:///srv/a' } },
    { from: { type: 'indirect', id: 'asub' }, to: { type: 'git', url: 'file:///srv/a', dir: 'sub' } },
    { from: { type: 'indirect', id: 'chain' }, to: { type: 'indirect', id: 'a' } },
    { from: { type: 'indirect', id: 'p' }, to: { type: 'path', path: '/srv/p' } },
    { from: { type: 'indirect', id: 'x' }, to: { type: 'indirect', id: 'y' } },
    { from: { type: 'indirect', id: 'y' }, to: { type: 'indirect', id: 'z' } },
    { from: { type: 'indirect', id: 'z' }, to: { type: 'indirect', id: 'x' } },
    { from: { type: 'indirect', id: 'pinned' }, to: { type: 'github', owner: 'o', repo: 'r', rev: REV } },
  ],
};

/** A layer meant to sit in front of another: overrides `nixpkgs`, adds `tool`. */
export const overlayRegistry = {
  version: 2,
  flakes: [
    { from: { type: 'indirect', id: 'nixpkgs' }, to: { type: 'github', owner: 'me', repo: 'nixpkgs', ref: 'mine' } },
    { from: { type: 'indirect', id: 'tool' }, to: { type: 'indirect', id: 'a' } },
  ],
};

export { REV };

/**
 * Registries of the test entry (worker.ts) that start cold: each test that needs
 * a registry its isolate has never loaded takes its own with `coldRegistry()`.
 */
export const COLD_REGISTRIES = Array.from({ length: 40 }, (_, i) => `cold-${i}`);

/** A registry file Nix would read only in part: its second entry's `exact` is not a boolean. */
export const BROKEN_REGISTRY = {
  version: 2,
  flakes: [
    { from: { type: 'indirect', id: 'ok' }, to: { type: 'github', owner: 'o', repo: 'ok' } },
    { from: { type: 'indirect', id: 'bad' }, to: { type: 'github', owner: 'o', repo: 'bad' }, exact: 'yes' },
  ],
};

/**
 * Maintainer keys for the tests (made for them; trusted nowhere else): alice,
 * bob and carol are trusted by TEST_POLICY, dave by nobody.
 */
export const KEYS = {
  alice: {
    secret: 'alice:bdo2vOkpJp5hHLEcMm+JSNj3js1v+w1O/NQyG7K4a5x1pcBR40YlZXuI9V22PxXnv7mZSBjXaq4MVKEJ2hjKTg==',
    public: 'alice:daXAUeNGJWV7iPVdtj8V57+5mUgY12quDFShCdoYyk4=',
  },
  bob: {
    secret: 'bob:oFQE+XHtwhrI7Tufu/RAkSRapWcCAW0Ba8kSNuwxgtdcYIxUUFRmpPEaryNpQgUhacd6w1otN1X/jYv0FiLJJw==',
    public: 'bob:XGCMVFBUZqTxGq8jaUIFIWnHesNaLTdV/42L9BYiySc=',
  },
  carol: {
    secret: 'carol:KUBKtNSPPwE5Ziop645ERZz94BV/0p9XYyZv5toFGrHNykQ/+4S3cx376DWe4VQi+4850zxVpfuT4P748otxyg==',
    public: 'carol:zcpEP/uEt3Md++g1nuFUIvuPOdM8VaX7k+D++PKLcco=',
  },
  dave: {
    secret: 'dave:xC5fZ8BtUsRneTMn1X3dxIvoKubl0hYQfoXl4iD5sprW9XtxfKhHf0Up1gcqVzew0lbd9h7jx/qEEo9lJHTzDQ==',
    public: 'dave:1vV7cXyoR39FKdYHKlc3sNJW3fYe48f6hBKPZSR08w0=',
  },
} as const;

/** Two of alice, bob and carol must sign. */
export const TEST_POLICY = { keys: [KEYS.alice.public, KEYS.bob.public, KEYS.carol.public], threshold: 2 };

/** The public half of the tests' log key (LOG_SIGNING_KEY in test/worker/wrangler.toml). */
export const LOG_PUBLIC_KEY = 'registry.test:vgXCu0R6NAbTzSEPx3PEdHulifnXfK2wXYCx/8M0WA8=';
