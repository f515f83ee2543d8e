import { marked } from '../marks.js';

/** Elements made from parts, never from markup: text is always a text node. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** Text as the server's pages show it: invisible characters as marks. */
export function shown(text: string): HTMLElement {
  const bdi = el('bdi');
  for (const run of marked(text)) {
    bdi.append(
      run.kind === 'text'
        ? run.text
        : el('span', { class: 'invisible', title: run.name, 'aria-label': run.name }, run.shown),
    );
  }
  return bdi;
}
