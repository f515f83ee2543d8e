import { kvKeys } from './layout.js';
import type { Head, VersionRecord } from './records.js';

/**
 * The only KV writes there are. A version's file and record go in before any
 * head points at it, so a reader that sees a head can always read its version.
 */
export async function putVersion(kv: KVNamespace, record: VersionRecord, body: string): Promise<void> {
  await kv.put(kvKeys.versionFile(record.registry, record.version), body);
  await kv.put(kvKeys.versionRecord(record.registry, record.version), JSON.stringify(record));
}

export async function putHead(kv: KVNamespace, registry: string, head: Head): Promise<void> {
  await kv.put(kvKeys.head(registry), JSON.stringify(head));
}
