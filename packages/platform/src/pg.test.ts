import { StatementNames } from './pg';

describe('StatementNames', () => {
  it('gives each statement text one name, the same on every call', () => {
    const names = new StatementNames();
    const a = names.nameFor('SELECT 1 WHERE $1');
    const b = names.nameFor('SELECT 2 WHERE $1');
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(a).not.toBe(b);
    expect(names.nameFor('SELECT 1 WHERE $1')).toBe(a);
  });

  it('names no new text once the limit is reached, and keeps the names it gave', () => {
    const names = new StatementNames(2);
    const first = names.nameFor('q1');
    names.nameFor('q2');
    expect(names.nameFor('q3')).toBeUndefined();
    expect(names.nameFor('q1')).toBe(first);
  });
});
