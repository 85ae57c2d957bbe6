import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CallbackRejection } from './rejection.ts';

/**
 * XML of WeCom callbacks, read defensively: anything with a DTD or an entity declaration is
 * refused before parsing (no entity expansion, no external entities: "billion laughs" and XXE
 * have nothing to work with), the text must be well-formed, entities are not processed, and
 * values stay text (ids like "0123" or long userids must not turn into numbers).
 */

/** A DOCTYPE or ENTITY declaration anywhere in the text; WeCom's XML never carries one. */
const DECLARATIONS = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i;

const parser = new XMLParser({
  processEntities: false,
  htmlEntities: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  // ExtAttr items repeat; everything else is read as a single element.
  isArray: (name) => name === 'Item',
});

/** A parsed element: text, or nested elements. */
export type XmlNode = string | XmlElement | XmlElement[];
export interface XmlElement {
  [name: string]: XmlNode | undefined;
}

/** The children of the `<xml>` root; `malformed_xml` when the text is not safe, well-formed XML with that root. */
export function parseCallbackXml(text: string): XmlElement {
  if (DECLARATIONS.test(text)) throw new CallbackRejection('malformed_xml');
  if (XMLValidator.validate(text) !== true) throw new CallbackRejection('malformed_xml');
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch {
    throw new CallbackRejection('malformed_xml');
  }
  const root = (parsed as { xml?: unknown } | null)?.xml;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) throw new CallbackRejection('malformed_xml');
  return root as XmlElement;
}

/** A text child (CDATA or not, as WeCom's samples show both), or undefined. Empty text counts as absent. */
export function text(element: XmlElement, name: string): string | undefined {
  const value = element[name];
  if (typeof value !== 'string') return undefined;
  return value === '' ? undefined : value;
}

/** A nested element, or undefined. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  const value = element[name];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}
