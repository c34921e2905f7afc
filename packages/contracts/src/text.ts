import { z } from 'zod';

/**
 * The one rule for text that comes from outside (HTTP bodies, path parameters, query strings, event
 * payloads): no control characters and no lone surrogates.
 *
 * Why: PostgreSQL `text` cannot hold U+0000 (SQLSTATE 22021) and `jsonb` refuses `\u0000`, so a NUL
 * that passed validation became a 500 (and a stuck consumer). A lone surrogate (`"\ud800"` in JSON) is
 * not encodable as UTF-8: drivers replace it or fail. Other C0/C1 controls and DEL corrupt logs,
 * terminals and CSV exports and are never meaningful in a name, an address or an id.
 *
 * Free text (a cancel reason) may also hold tab and line feed; everything else holds neither.
 */
export type TextKind = 'single-line' | 'multi-line';

/** Tab and line feed: the only controls free text keeps. */
const FREE_TEXT_CONTROLS = new Set([0x09, 0x0a]);

/** C0 controls (U+0000–U+001F), DEL (U+007F) and C1 controls (U+0080–U+009F). */
function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/**
 * Describes the first character `value` may not hold (e.g. "U+0000 at index 3"), or undefined when
 * it is clean. Walks UTF-16 code units so a surrogate pair counts as one character and a lone half
 * is caught.
 */
export function unsafeCharacterIn(value: string, kind: TextKind = 'single-line'): string | undefined {
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 1; // a well-formed pair: an astral character such as an emoji
        continue;
      }
      return `a lone surrogate (U+${hex(code)}) at index ${i}`;
    }
    if (code >= 0xdc00 && code <= 0xdfff) return `a lone surrogate (U+${hex(code)}) at index ${i}`;
    if (isControl(code) && !(kind === 'multi-line' && FREE_TEXT_CONTROLS.has(code))) {
      return `the control character U+${hex(code)} at index ${i}`;
    }
  }
  return undefined;
}

function hex(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}

function textSchema(kind: TextKind): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    const bad = unsafeCharacterIn(value, kind);
    if (bad) ctx.addIssue({ code: 'custom', message: `Must not contain ${bad}` });
  });
}

/**
 * A string with no control characters and no lone surrogates: names, address lines, ids, cursors.
 * Chain length rules on it as on `z.string()`, e.g. `plainText().trim().min(1).max(200)`.
 */
export function plainText(): z.ZodString {
  return textSchema('single-line');
}

/** Free text: as `plainText()`, but tab and line feed are allowed (a cancel reason). */
export function freeText(): z.ZodString {
  return textSchema('multi-line');
}
