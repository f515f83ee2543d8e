// The Worker the workerd tests send real requests to (`exports.default`): the
// production entry over the embedded registries, plus test registries that let
// each test meet a registry this isolate has never loaded, and one broken file.
import { embeddedRegistries } from '../../registries/index.js';
import { createWorker } from '../../src/worker.js';
import { BROKEN_REGISTRY, COLD_REGISTRIES, CREATED, teamRegistry, TEST_POLICY } from './fixtures.js';

export { RegistryWriter } from '../../src/worker.js';

export default createWorker([
  ...embeddedRegistries,
  ...COLD_REGISTRIES.map((name) => ({ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED })),
  { name: 'broken', file: BROKEN_REGISTRY, policy: TEST_POLICY, created: CREATED },
]);
