// The history page's second script: "Verify this history" (verify.ts), kept out of the script
// every page loads, since it carries the history verifier and the Nix core it replays with.
import { verifyButton } from './verify.js';

const section = document.getElementById('verify');
if (section) verifyButton(section);
