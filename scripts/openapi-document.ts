import * as z from '../src/nix/zod.js';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponseObject } from 'zod-openapi';
import { PROBLEM_EXAMPLES } from '../src/api/examples.js';
import { PROBLEM_CONTENT_TYPE, PROBLEMS, problemSchema, problemType, type ProblemKind } from '../src/api/problems.js';
import { OPERATIONS, type Answer, type Operation } from '../src/api/routes.js';

/**
 * The OpenAPI 3.1 document of the API, generated from the route table and the
 * schemas it names by zod-openapi (which uses zod's own JSON Schema output).
 * Run at build time (`npm run build:openapi` writes src/api/openapi.json, which
 * the Worker serves); a unit test keeps the file in step with this.
 */

const HEADER_SCHEMAS = {
  ETag: { description: 'A strong validator: the SHA-256 of the body, quoted', schema: { type: 'string' } },
  'Last-Modified': { description: "The version's time, in whole seconds", schema: { type: 'string' } },
  'Cache-Control': {
    description: 'How long it may be reused (`max-age`, `immutable`, `no-store`)',
    schema: { type: 'string' },
  },
  'X-Registry': {
    description: 'The registry (or registries, comma-separated) and version(s) it came from',
    schema: { type: 'string' },
  },
  Location: { description: "The proposal's URL", schema: { type: 'string' } },
} as const;

function headers(answer: Answer): Record<string, { description: string; schema: { type: 'string' } }> {
  const out: Record<string, { description: string; schema: { type: 'string' } }> = {};
  for (const h of answer.headers ?? []) {
    if (h === 'X-Registry') {
      out['X-Registry-Name'] = HEADER_SCHEMAS['X-Registry'];
      out['X-Registry-Version'] = HEADER_SCHEMAS['X-Registry'];
    } else {
      out[h] = HEADER_SCHEMAS[h];
    }
  }
  return out;
}

/** The schema of a problem answer: one kind, or any of several. */
function problemsSchema(operation: Operation, kinds: readonly (keyof typeof PROBLEMS)[]): z.ZodMiniType {
  // A URL refused before any route runs carries no lookup context, whatever the path.
  const options = kinds.map((kind) =>
    problemSchema(kind, { resolve: operation.resolveProblems === true && kind !== 'uri-too-long' }),
  );
  const [first, ...rest] = options;
  if (!first) throw new Error(`${operation.id}: a problem answer without kinds`);
  return rest.length === 0 ? first : z.union([first, ...rest]);
}

function problemExample(kind: ProblemKind, resolve: boolean): Record<string, unknown> {
  return {
    ...PROBLEM_EXAMPLES[kind],
    ...(resolve && kind !== 'uri-too-long' ? { input: 'nixpkgs' } : {}),
    type: problemType(kind),
    title: PROBLEMS[kind].title,
    status: PROBLEMS[kind].status,
    detail: 'what went wrong, in words',
  };
}

function response(operation: Operation, answer: Answer): ZodOpenApiResponseObject {
  const content: NonNullable<ZodOpenApiResponseObject['content']> = {};
  if (answer.json) {
    content['application/json'] = {
      schema: answer.json,
      ...(answer.example === undefined ? {} : { example: answer.example }),
    };
  }
  if (answer.other) {
    content[answer.other.contentType] = {
      schema: answer.other.binary ? z.withMeta(z.string(), { format: 'binary' }) : z.string(),
      ...(answer.other.example === undefined ? {} : { example: answer.other.example }),
    };
  }
  if (answer.problems) {
    const kinds = answer.problems;
    content[PROBLEM_CONTENT_TYPE] = {
      schema: problemsSchema(operation, kinds),
      example: problemExample(kinds[0] ?? 'internal', operation.resolveProblems === true),
    };
  }
  const kinds = answer.problems === undefined ? '' : ` (${answer.problems.map((k) => `\`${k}\``).join(', ')})`;
  return {
    description: `${answer.description}${kinds}`,
    ...(answer.headers ? { headers: headers(answer) } : {}),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}

function operationObject(operation: Operation): ZodOpenApiOperationObject {
  return {
    operationId: operation.id,
    // Nothing is authenticated: proposals carry their maintainers' signatures in their bodies.
    security: [],
    summary: operation.summary,
    description: `${operation.description}${operation.method === 'get' ? ' Answered to HEAD too, with the same headers and no body.' : ''}`,
    tags: [operation.tag],
    ...(operation.params
      ? {
          requestParams: {
            ...(operation.params.path ? { path: operation.params.path } : {}),
            ...(operation.params.query ? { query: operation.params.query } : {}),
          },
        }
      : {}),
    ...(operation.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: operation.body,
                ...(operation.bodyExample === undefined ? {} : { example: operation.bodyExample }),
              },
            },
          },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(operation.responses).map(([status, answer]) => [status, response(operation, answer)]),
    ),
  };
}

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, ZodOpenApiOperationObject>> = {};
  for (const operation of OPERATIONS) {
    paths[operation.path] = { ...paths[operation.path], [operation.method]: operationObject(operation) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'flake-registry-service',
      version,
      description:
        'A host for Nix flake registries: registry files Nix reads unchanged, `/resolve` answering what Nix would resolve a ref to, and signed proposals that change a registry. Errors are RFC 9457 problem details with a stable `type` per kind.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'http://127.0.0.1:8787', description: 'A local server (`npm start`)' }],
    tags: [
      { name: 'Registry files', description: 'What Nix downloads' },
      { name: 'Resolve', description: 'What a flake reference means here' },
      { name: 'History', description: 'Every version, with the hashes that link them' },
      { name: 'Proposals', description: 'Signed changes, their review and approvals' },
      { name: 'Transparency log', description: 'One history for everyone: C2SP tlog-tiles and checkpoints' },
      { name: 'Service', description: 'The service itself' },
    ],
    paths,
    components: {
      // Answers to a path no operation serves, or to a method none takes there (not tied to one operation).
      responses: {
        NoRoute: {
          description: 'Nothing is served at this path (`no-route`)',
          content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema('no-route') } },
        },
        MethodNotAllowed: {
          description: 'The path takes other methods; `Allow` lists them (`method-not-allowed`)',
          content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema('method-not-allowed') } },
        },
      },
    },
  }) as unknown as Record<string, unknown>;
}
