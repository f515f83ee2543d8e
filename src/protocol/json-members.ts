/**
 * The first member name an object of a JSON text names twice, or undefined. JSON.parse keeps
 * the last, other parsers the first: a signer's tool could show one change while the service
 * applies another. Called on text JSON.parse has accepted, so only strings, nesting and member
 * names need following.
 */
export function duplicateMember(text: string): string | undefined {
  // One set of names per open object; null for an open array.
  const stack: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (expectName && top) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.has(name)) return name;
        top.add(name);
      }
      expectName = false;
      i = end;
    } else if (ch === '{') {
      stack.push(new Set());
      expectName = true;
    } else if (ch === '[') {
      stack.push(null);
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      expectName = stack.at(-1) instanceof Set;
    }
  }
  return undefined;
}
