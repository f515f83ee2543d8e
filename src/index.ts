import { embeddedRegistries } from '../registries/index.js';
import { createWorker } from './worker.js';

export { RegistryWriter } from './worker.js';

export default createWorker(embeddedRegistries);
