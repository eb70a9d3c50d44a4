// A strict well-formedness check for the SVG the reports write (no XML parser among the
// dependencies): balanced, properly nested tags, quoted attributes, no raw '<' or stray '&'.
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
}

const NAME = '[A-Za-z_][\\w.:-]*';
const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function checkText(text: string, where: string): void {
  if (text.includes('<')) throw new Error(`raw '<' in ${where}`);
  if (text.replace(ENTITY, '').includes('&')) throw new Error(`unescaped '&' in ${where}`);
}

/** Throws on the first well-formedness error; returns every element (document order). */
export function parseXml(xml: string): XmlElement[] {
  const elements: XmlElement[] = [];
  const stack: string[] = [];
  const tag = new RegExp(`<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*"[^"]*")*)\\s*(/?)>`, 'y');
  const attr = new RegExp(`(${NAME})\\s*=\\s*"([^"]*)"`, 'g');
  let i = 0;
  let rootClosed = false;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    checkText(text, `text at ${i}`);
    if (text.trim() !== '' && stack.length === 0) throw new Error(`text outside the root element at ${i}`);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 60)}`);
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      if (attrText || selfClose) throw new Error(`malformed closing tag </${name}>`);
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      if (stack.length === 0) rootClosed = true;
    } else {
      if (rootClosed) throw new Error('a second root element');
      const attrs: Record<string, string> = {};
      for (const a of attrText!.matchAll(attr)) {
        if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
        checkText(a[2]!, `attribute ${a[1]} of <${name}>`);
        attrs[a[1]!] = a[2]!;
      }
      elements.push({ name: name!, attrs });
      if (selfClose) { if (stack.length === 0) rootClosed = true; } else stack.push(name!);
    }
    i = tag.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (!rootClosed) throw new Error('no root element');
  return elements;
}
