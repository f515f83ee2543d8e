/**
 * The bytes a deployment's static assets hold (wrangler.toml's `[assets]`, the directory
 * dist/public that scripts/build-web.ts writes): the pages' stylesheet, scripts and icon and
 * the OpenAPI document. They are kept out of the Worker's script, which an isolate parses on
 * every cold start; the Worker runs first for every request (`run_worker_first`), reads them
 * here and answers with its own headers, so the assets' own answer is never sent as it is.
 */
export async function staticAsset(assets: Fetcher, path: string): Promise<Uint8Array> {
  // A plain GET: the client's conditional headers are judged by the Worker, never here.
  const res = await assets.fetch(new Request(new URL(path, 'https://assets.internal')));
  if (res.status !== 200) {
    await res.body?.cancel();
    // Only a deployment without its build (dist/public) lacks one: a 500, the same on every retry.
    throw new Error(`the static assets have no ${path} (status ${res.status}): was scripts/build-web.ts run?`);
  }
  return new Uint8Array(await res.arrayBuffer());
}
