/** One zod issue as this project's errors quote it: `path.to.member: message`, or the message alone at the top. */
export function issueText(issue: { readonly path: readonly PropertyKey[]; readonly message: string }): string {
  return issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message;
}

/** The first issue of a failed parse, as `issueText` quotes it. */
export function firstIssue(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
): string {
  const issue = issues[0];
  return issue ? issueText(issue) : 'invalid';
}
