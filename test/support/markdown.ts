// A real CommonMark renderer (commonmark.js, the reference implementation) for tests: what a prescriber sees of a
// card's Markdown detail, and which Markdown structure it has.
import { Parser, type Node, type NodeType } from 'commonmark';

const parser = new Parser();

/** The parsed document. */
export function parseMarkdown(text: string): Node {
  return parser.parse(text);
}

/**
 * The visible text of rendered Markdown: text and code content, line breaks and block boundaries as one space,
 * whitespace collapsed. (Tables are not CommonMark: their rows render as paragraphs, their pipes stay visible.)
 */
export function visibleText(text: string): string {
  const out: string[] = [];
  const walker = parseMarkdown(text).walker();
  for (let e = walker.next(); e; e = walker.next()) {
    const n = e.node;
    if (e.entering && (n.type === 'text' || n.type === 'code' || n.type === 'html_inline' || n.type === 'html_block' || n.type === 'code_block')) out.push(n.literal ?? '');
    else if (n.type === 'softbreak' || n.type === 'linebreak') out.push(' ');
    else if (!e.entering && (n.type === 'paragraph' || n.type === 'heading' || n.type === 'item')) out.push(' ');
  }
  return normalizeSpace(out.join(''));
}

export const normalizeSpace = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Every node of these types, with its visible text (e.g. all emphasis, links, HTML in a card). */
export function nodesOf(text: string, types: readonly NodeType[]): { type: NodeType; text: string; destination?: string }[] {
  const found: { type: NodeType; text: string; destination?: string }[] = [];
  const walker = parseMarkdown(text).walker();
  for (let e = walker.next(); e; e = walker.next()) {
    const n = e.node;
    if (!e.entering || !types.includes(n.type)) continue;
    const inner: string[] = [];
    const w2 = n.walker();
    for (let f = w2.next(); f; f = w2.next()) if (f.entering && (f.node.type === 'text' || f.node.type === 'code')) inner.push(f.node.literal ?? '');
    const item: { type: NodeType; text: string; destination?: string } = { type: n.type, text: normalizeSpace(inner.join('')) };
    if (n.destination !== null && n.destination !== undefined) item.destination = n.destination;
    if (n.type === 'html_inline' || n.type === 'html_block') item.text = n.literal ?? '';
    found.push(item);
  }
  return found;
}
