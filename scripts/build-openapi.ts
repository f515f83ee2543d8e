// `npm run build:openapi`: writes src/api/openapi.json, the OpenAPI document the Worker
// serves at /openapi.json, generated from src/api (test/api/openapi.test.ts keeps it fresh).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from './openapi-document.js';

export const OPENAPI_FILE = join(import.meta.dirname, '..', 'src', 'api', 'openapi.json');

/** The document's text, as the file holds it. */
export function openApiText(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return `${JSON.stringify(openApiDocument(pkg.version), null, 2)}\n`;
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(OPENAPI_FILE, openApiText());
  console.log(`wrote ${OPENAPI_FILE}`);
}
