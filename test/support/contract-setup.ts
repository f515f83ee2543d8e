// Set up for the test projects that talk to a started server over HTTP (e2e, conformance):
// every answer from a local server is checked against the API contract (contract.ts).
import { checkedFetch } from './contract.js';

const original = globalThis.fetch;
const checked = checkedFetch(original);
const LOCAL = /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//;

globalThis.fetch = (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  return LOCAL.test(url) ? checked(input, init) : original(input, init);
};
