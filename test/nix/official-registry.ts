/**
 * A copy of the official NixOS flake registry, used as test data when available.
 * It is not part of this repository: set OFFICIAL_FLAKE_REGISTRY to its path
 * (`.ci/run` does when it finds one) and the tests that read it run; otherwise
 * they are skipped, and the project's own registries cover the same rules.
 */
export const officialRegistryPath: string | undefined = process.env['OFFICIAL_FLAKE_REGISTRY'] || undefined;
