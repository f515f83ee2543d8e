import { duplicateMember } from '../protocol/json-members.js';
import { Problem } from './problem.js';

/** Refuses a JSON text in which an object names a member twice (see duplicateMember). */
export function assertNoDuplicateMembers(text: string): void {
  const name = duplicateMember(text);
  if (name !== undefined) throw new Problem('invalid-json', `the body names the member '${name}' twice in one object`);
}
