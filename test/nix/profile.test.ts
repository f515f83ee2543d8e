import { describe, expect, it } from 'vitest';
import type { Json, JsonObject } from '../../src/nix/document.js';
import { drvName, nameFromURL } from '../../src/nix/profile-name.js';
import {
  ManifestError,
  MAX_PROFILE_ELEMENTS,
  readProfileManifest,
  readProfileManifestText,
  type ManifestErrorCode,
  type ProfileManifest,
} from '../../src/nix/profile.js';
import { fixture, REV } from './audit-helpers.js';

const STORE = '/nix/store/y9sd8cbjdrq4kkq8qmgb5mxv9m4sb2cw';

const summary = (m: ProfileManifest) =>
  m.elements.map((e) => [e.name, e.index, e.source?.original.url ?? null, e.source?.locked.url ?? null]);

describe('readProfileManifest: versions 1, 2 and 3 (src/nix/profile.cc)', () => {
  it('reads version 1’s uri and originalUri, and an element that only has store paths', () => {
    const m = readProfileManifest(fixture('manifest-v1.json'));
    expect(m.version).toBe(1);
    expect(summary(m)).toEqual([
      ['cowsay', 1, null, null],
      ['hello', 0, 'flake:nixpkgs', `github:NixOS/nixpkgs/${REV[0]}`],
    ]);
    const hello = m.elements[1];
    expect([hello?.source?.attrPath, hello?.source?.outputs, hello?.priority, hello?.active]).toEqual([
      'legacyPackages.x86_64-linux.hello',
      null,
      5,
      true,
    ]);
    expect(m.elements[0]?.storePaths).toEqual(['/nix/store/dyhhshbpkmqxg485xrxzr5irl0fv1gdj-cowsay-3.7.0']);
  });

  it('names version 2 elements as current Nix does, and numbers a taken name', () => {
    const m = readProfileManifest(fixture('manifest-v2.json'));
    expect(m.elements.map((e) => [e.name, e.index])).toEqual([
      ['flake:mylib#packages.x86_64-linux.default', 1],
      ['home-manager', 3],
      ['jq', 2],
      ['ripgrep', 0],
      ['ripgrep-1', 4],
    ]);
  });

  it('reads what Nix 2.8 writes (no priority or outputs) and what 2.9 and later add', () => {
    const m = readProfileManifest(fixture('manifest-v2.json'));
    const byName = new Map(m.elements.map((e) => [e.name, e]));
    const hm = byName.get('home-manager');
    expect([hm?.priority, hm?.source?.outputs, hm?.source?.indirect]).toEqual([4, ['man', 'out'], false]);
    const jq = byName.get('jq');
    expect([jq?.active, jq?.source?.pinsRev, jq?.source?.indirect, jq?.storePaths.length]).toEqual([
      false,
      true,
      true,
      2,
    ]);
    expect(byName.get('ripgrep')?.source?.outputs).toBeNull();
  });

  it('takes version 3 elements’ names from their keys', () => {
    const m = readProfileManifest(fixture('manifest-v3.json'));
    expect(m.elements.map((e) => e.name)).toEqual(['channel-hello', 'cowsay', 'gone-tool', 'hello', 'loop']);
    const hello = m.elements.find((e) => e.name === 'hello');
    expect(hello?.source?.locked.attrs['narHash']).toBe('sha256-OwiJl/4IDo/wnjcFirVy9sx7U34jO5jmWTM1VOu/lDI=');
    expect(m.elements.find((e) => e.name === 'loop')?.source?.outputs).toEqual(['*']);
    expect(m.elements.find((e) => e.name === 'cowsay')?.source).toBeUndefined();
  });

  it('reads a missing or null elements as an empty profile, and an empty url as no source', () => {
    expect(readProfileManifest({ version: 2 }).elements).toEqual([]);
    const m = readProfileManifest({ version: 2, elements: [{ active: true, url: '', storePaths: [`${STORE}-x-1`] }] });
    expect(m.elements[0]?.source).toBeUndefined();
    expect(m.elements[0]?.name).toBe('x');
  });
});

describe('element names (getNameFromURL, DrvName)', () => {
  it.each([
    ['flake:nixpkgs#legacyPackages.x86_64-linux.hello', 'hello'],
    ['flake:nixpkgs#legacyPackages.x86_64-linux.hello^out,man', 'hello'],
    ['github:o/r?dir=sub#packages.x86_64-linux.default', 'sub'],
    ['github:NixOS/nixpkgs/nixos-24.05#packages.x86_64-linux.default', 'nixpkgs'],
    ['github:o/r#defaultPackage.x86_64-linux', 'r'],
    ['git+https://example.org/team/tool#packages.x86_64-linux.default', 'tool'],
    ['path:/home/me/proj#packages.x86_64-linux.default', 'proj'],
    ['flake:mylib#packages.x86_64-linux.default', undefined],
  ])('%s → %s', (url, name) => {
    expect(nameFromURL(url)).toBe(name);
  });

  it.each([
    ['hello-2.12.1', 'hello'],
    ['apache-httpd-2.0.48', 'apache-httpd'],
    ['jq-1.7.1-bin', 'jq'],
    ['home-manager', 'home-manager'],
    ['trailing-', 'trailing-'],
  ])('DrvName(%s).name = %s', (s, name) => {
    expect(drvName(s)).toBe(name);
  });

  it('names a store-path element by its sorted distinct package names', () => {
    const m = readProfileManifest({
      version: 2,
      elements: [{ active: true, storePaths: [`${STORE}-zsh-5.9`, `${STORE}-bash-5.2`, `${STORE}-zsh-5.9-man`] }],
    });
    expect(m.elements[0]?.name).toBe('bash, zsh');
  });
});

describe('readProfileManifest: refusals, each naming what is wrong', () => {
  const el = (e: JsonObject, version = 2): Json => ({ version, elements: [e] });
  const flake = { active: true, attrPath: 'a', originalUrl: 'flake:nixpkgs', url: `github:o/r/${REV[0]}` };
  it.each<[string, Json, ManifestErrorCode, string]>([
    ['a list', [], 'not-object', "profile manifest 'manifest.json' is array, not an object"],
    [
      'no version',
      { elements: [] },
      'unsupported-version',
      "profile manifest 'manifest.json' has unsupported version 0",
    ],
    ['version 4', { version: 4, elements: [] }, 'unsupported-version', 'has unsupported version 4'],
    ['a version string', { version: '2', elements: [] }, 'unsupported-version', 'has unsupported version "2"'],
    [
      'elements that are a string',
      { version: 2, elements: 'x' },
      'invalid-element',
      "'elements' is string, not a list or an object",
    ],
    [
      'an element that is a number',
      { version: 2, elements: [1] },
      'invalid-element',
      'profile manifest element 0 is number, not an object',
    ],
    [
      'an element without active',
      el({ storePaths: [] }),
      'invalid-element',
      "element 0: 'active' is null, not a Boolean",
    ],
    ['a fractional priority', el({ ...flake, priority: 1.5 }), 'invalid-element', "'priority' is not an integer"],
    ['a url that is a number', el({ active: true, url: 3 }), 'invalid-element', "'url' is number, not a string"],
    [
      'a url without originalUrl',
      el({ active: true, attrPath: 'a', url: 'github:o/r' }),
      'invalid-element',
      "'originalUrl' is null, not a string",
    ],
    [
      'a url without attrPath',
      el({ ...flake, attrPath: undefined as unknown as string }),
      'invalid-element',
      "'attrPath' is null",
    ],
    ['a url Nix cannot parse', el({ ...flake, url: 'github:o' }), 'invalid-element', "element 0: 'url': "],
    [
      'a relative originalUrl',
      el({ ...flake, originalUrl: './x' }),
      'invalid-element',
      "flake reference './x' is not an absolute path",
    ],
    [
      'version 1 with url instead of uri',
      el({ active: true, uri: 1 }, 1),
      'invalid-element',
      "'uri' is number, not a string",
    ],
    [
      'storePaths that are an object',
      el({ active: true, storePaths: {} }),
      'invalid-element',
      "'storePaths' is not a list",
    ],
    [
      'a path outside any store',
      el({ active: true, storePaths: ['/usr/bin/hello'] }),
      'invalid-element',
      '"/usr/bin/hello" is not a store path',
    ],
    [
      'a store path with a bad hash',
      el({ active: true, storePaths: ['/nix/store/eeee-hello'] }),
      'invalid-element',
      'is not a store path',
    ],
    [
      'outputs that are a string',
      el({ ...flake, outputs: 'out' }),
      'invalid-element',
      "'outputs' is not null or a list of output names",
    ],
  ])('refuses %s', (_, json, code, message) => {
    let error: unknown;
    try {
      readProfileManifest(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).code).toBe(code);
    expect((error as ManifestError).message).toContain(message);
  });

  it('names a version 3 element by its key', () => {
    expect(() => readProfileManifest({ version: 3, elements: { vim: { active: 'yes' } } })).toThrow(
      "profile manifest element 'vim': 'active' is string, not a Boolean",
    );
  });

  it(`refuses more than ${MAX_PROFILE_ELEMENTS} elements`, () => {
    const elements = Array.from({ length: MAX_PROFILE_ELEMENTS + 1 }, () => ({ active: true }));
    expect(() => readProfileManifest({ version: 2, elements })).toThrow(`at most ${MAX_PROFILE_ELEMENTS} are read`);
  });

  it('refuses text that is not JSON', () => {
    expect(() => readProfileManifestText('{"version":', 'p/manifest.json')).toThrow(
      /^could not parse 'p\/manifest.json': /,
    );
  });
});
