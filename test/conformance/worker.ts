// The Worker the conformance suite starts: the service with the registry the suite
// built (local git repositories and path flakes) as version 1 of `global`.
import registry from 'conformance-registry';

import globalPolicy from '../../registries/global.policy.json';
import { createWorker } from '../../src/worker.js';

export { RegistryWriter } from '../../src/worker.js';

export default createWorker([
  { name: 'global', file: registry, policy: globalPolicy, created: '2026-01-01T00:00:00Z' },
]);
