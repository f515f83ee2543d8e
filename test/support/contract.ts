import { Validator, type Schema } from '@cfworker/json-schema';
import document from '../../src/api/openapi.json';
import { operationFor, operationsAt } from '../../src/api/routes.js';

/**
 * The contract test: every JSON answer a test receives from the service is
 * checked against the OpenAPI document's schema for its route and status (and
 * content type). An answer the document does not describe, or describes
 * otherwise, fails the test that received it. Runs in workerd and in Node alike
 * (@cfworker/json-schema needs no code generation).
 */

interface MediaType {
  readonly schema?: Schema;
}
interface ResponseObject {
  readonly content?: Readonly<Record<string, MediaType>>;
}
type Doc = {
  readonly paths: Readonly<
    Record<string, Readonly<Record<string, { readonly responses: Readonly<Record<string, ResponseObject>> }>>>
  >;
  readonly components: { readonly schemas: Readonly<Record<string, Schema>> };
};
const doc = document as unknown as Doc;

/** Answers not tied to one operation: any method on a path that is not served, or not with it. */
const PATH_LEVEL: Readonly<Record<number, string>> = {
  404: 'Problem-no-route',
  405: 'Problem-method-not-allowed',
  414: 'Problem-uri-too-long',
  500: 'Problem-registry-misconfigured',
};

const validators = new Map<string, Validator>();

function validatorFor(key: string, schema: Schema): Validator {
  let validator = validators.get(key);
  if (!validator) {
    // The response schema as the root of a document that holds the components it refers to.
    validator = new Validator({ ...schema, components: doc.components }, '2020-12', false);
    validators.set(key, validator);
  }
  return validator;
}

/** Which (operation, status) pairs the suite has received, for the record. */
export const received = new Map<string, number>();

export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';
}

function schemaFor(method: string, path: string, status: number, contentType: string): { key: string; schema: Schema } {
  const operation = operationFor(method, path);
  if (!operation) {
    const component = operationsAt(path).length > 0 || status === 404 ? PATH_LEVEL[status] : undefined;
    if (component !== undefined && contentType === 'application/problem+json') {
      return { key: `path ${status}`, schema: { $ref: `#/components/schemas/${component}` } };
    }
    throw new ContractViolation(`${method} ${path} answered ${status}, but the document has no operation there`);
  }
  const described = doc.paths[operation.path]?.[operation.method]?.responses[String(status)];
  if (!described) {
    throw new ContractViolation(
      `${operation.id} (${method} ${path}) answered ${status}, which the document does not describe`,
    );
  }
  const media = described.content?.[contentType];
  if (!media?.schema) {
    throw new ContractViolation(
      `${operation.id} (${method} ${path}) answered ${status} as ${contentType}, which the document does not describe for it`,
    );
  }
  received.set(`${operation.id} ${status}`, (received.get(`${operation.id} ${status}`) ?? 0) + 1);
  return { key: `${operation.id} ${status} ${contentType}`, schema: media.schema };
}

/**
 * Checks one answer; throws ContractViolation when it does not match. Answers
 * without a body (304, HEAD, a preflight) and bodies that are not JSON are the
 * document's headers' business, not checked here.
 */
export async function checkAnswer(method: string, url: string, response: Response): Promise<void> {
  const contentType = (response.headers.get('Content-Type') ?? '').split(';')[0]?.trim() ?? '';
  if (method === 'HEAD' || method === 'OPTIONS' || response.status === 304 || response.status === 204) return;
  if (contentType !== 'application/json' && contentType !== 'application/problem+json') return;
  const path = new URL(url, 'http://service.test').pathname;
  const text = await response.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ContractViolation(
      `${method} ${path} answered ${response.status} as ${contentType} with a body that is not JSON`,
    );
  }
  const { key, schema } = schemaFor(method, path, response.status, contentType);
  const result = validatorFor(key, schema).validate(body);
  if (!result.valid) {
    const errors = result.errors
      .filter((e) => e.keyword !== 'properties' && e.keyword !== '$ref' && e.keyword !== 'anyOf')
      .slice(0, 5)
      .map((e) => `${e.instanceLocation}: ${e.error}`);
    throw new ContractViolation(
      `${method} ${path} answered ${response.status} with a body the document does not describe (${key}): ${errors.join('; ') || result.errors[0]?.error}\n${text.slice(0, 500)}`,
    );
  }
}

/** `fetch`, with every answer checked against the document. */
export function checkedFetch(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const response = await inner(request);
    await checkAnswer(request.method, request.url, response);
    return response;
  };
}
