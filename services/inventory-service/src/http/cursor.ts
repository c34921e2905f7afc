import { unsafeCharacterIn } from '@dispatch/contracts';

/**
 * Opaque page cursors for GET /api/inventory/items: base64url of a small JSON object naming the last
 * itemId of the previous page. Opaque so clients never build one and the format can change.
 */

interface CursorV1 {
  v: 1;
  after: string;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('not a cursor this API issued');
    this.name = 'InvalidCursorError';
  }
}

export function encodeCursor(afterItemId: string): string {
  const cursor: CursorV1 = { v: 1, after: afterItemId };
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** The itemId a page starts after; throws InvalidCursorError for anything encodeCursor did not make. */
export function decodeCursor(cursor: string): string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    (value as Partial<CursorV1>).v !== 1 ||
    typeof (value as Partial<CursorV1>).after !== 'string' ||
    (value as CursorV1).after.length === 0 ||
    // A forged cursor could carry a NUL (which PostgreSQL text refuses) or other controls to the query.
    unsafeCharacterIn((value as CursorV1).after) !== undefined
  ) {
    throw new InvalidCursorError();
  }
  return (value as CursorV1).after;
}
