// The one `node:crypto` function the Worker calls (sha256-sync.ts), typed for the Worker and
// the pages (src/tsconfig.json and src/web/client/tsconfig.json map `node:crypto` here), whose
// types have no Node modules. Tests and scripts see Node's own types instead.
export declare function createHash(algorithm: 'sha256'): {
  update(data: string | Uint8Array): { digest(): Uint8Array };
};
