import {
  assertCqlIdentifier,
  type CassandraMigration,
  CassandraMigrationError,
  parseMigrationFileName,
  pendingMigrations,
  planMigrations,
  replicationCql,
  splitCqlStatements,
} from './cassandra-migrations';

describe('parseMigrationFileName', () => {
  it('reads version and name', () => {
    expect(parseMigrationFileName('001_create_orders.cql')).toEqual({ version: 1, name: 'create_orders' });
    expect(parseMigrationFileName('1024_add_eta.cql')).toEqual({ version: 1024, name: 'add_eta' });
  });

  it.each(['1_short.cql', '001-dash.cql', '001_Upper.cql', '001_x.sql', 'orders.cql', '001_.cql'])(
    'rejects %s',
    (name) => {
      expect(parseMigrationFileName(name)).toBeUndefined();
    },
  );
});

describe('splitCqlStatements', () => {
  it('splits at semicolons and trims', () => {
    expect(
      splitCqlStatements('CREATE TABLE a (id int PRIMARY KEY);\n\n  CREATE TABLE b (id int PRIMARY KEY)  '),
    ).toEqual(['CREATE TABLE a (id int PRIMARY KEY)', 'CREATE TABLE b (id int PRIMARY KEY)']);
  });

  it('keeps semicolons inside strings, quoted identifiers and $$ strings', () => {
    const source = [
      "INSERT INTO t (k, v) VALUES ('a;b', 'it''s; fine');",
      'SELECT "odd;name" FROM t;',
      'CREATE FUNCTION f() RETURNS NULL ON NULL INPUT RETURNS text LANGUAGE java AS $$ return "x;"; $$;',
    ].join('\n');
    expect(splitCqlStatements(source)).toEqual([
      "INSERT INTO t (k, v) VALUES ('a;b', 'it''s; fine')",
      'SELECT "odd;name" FROM t',
      'CREATE FUNCTION f() RETURNS NULL ON NULL INPUT RETURNS text LANGUAGE java AS $$ return "x;"; $$',
    ]);
  });

  it('drops comments, including ones with semicolons, and empty statements', () => {
    const source = `-- the orders table; one row per order
      CREATE TABLE a (
        id int PRIMARY KEY, // why; explained
        v text /* a; b */
      );;
      /* trailing; comment */`;
    const [statement, ...rest] = splitCqlStatements(source);
    expect(rest).toEqual([]);
    expect(statement?.replace(/\s+/g, ' ')).toBe('CREATE TABLE a ( id int PRIMARY KEY, v text )');
  });

  it('keeps comment markers inside strings', () => {
    expect(splitCqlStatements("INSERT INTO t (v) VALUES ('--not a comment /* nor this */')")).toEqual([
      "INSERT INTO t (v) VALUES ('--not a comment /* nor this */')",
    ]);
  });

  it.each([
    ["INSERT INTO t (v) VALUES ('open", /unterminated '-quoted text starting on line 1/],
    ['SELECT 1;\n/* never closed', /unterminated \/\* comment starting on line 2/],
    ['AS $$ body', /unterminated \$\$ string/],
  ])('refuses unterminated text: %s', (source, message) => {
    expect(() => splitCqlStatements(source)).toThrow(message);
  });
});

describe('planMigrations', () => {
  it('orders by version, ignores other files and checksums the text', () => {
    const plan = planMigrations([
      { fileName: '002_b.cql', source: 'CREATE TABLE b (id int PRIMARY KEY);' },
      { fileName: 'README.md', source: '# notes' },
      {
        fileName: '001_a.cql',
        source: 'CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE c (id int PRIMARY KEY);',
      },
    ]);
    expect(plan.map((m) => [m.version, m.fileName, m.statements.length])).toEqual([
      [1, '001_a.cql', 2],
      [2, '002_b.cql', 1],
    ]);
    expect(plan[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lists every bad file at once', () => {
    const attempt = () =>
      planMigrations([
        { fileName: '001_a.cql', source: 'SELECT 1' },
        { fileName: '001_again.cql', source: 'SELECT 2' },
        { fileName: 'create.cql', source: 'SELECT 3' },
        { fileName: '003_empty.cql', source: '-- nothing here\n' },
      ]);
    expect(attempt).toThrow(CassandraMigrationError);
    expect(attempt).toThrow(/001_again\.cql: version 1 is also used by 001_a\.cql/);
    expect(attempt).toThrow(/create\.cql: expected a name like/);
    expect(attempt).toThrow(/003_empty\.cql: contains no statements/);
  });
});

describe('pendingMigrations', () => {
  const migration = (version: number, checksum = `sum${version}`): CassandraMigration => ({
    version,
    fileName: `00${version}_m${version}.cql`,
    checksum,
    statements: ['SELECT 1'],
  });
  const applied = (m: CassandraMigration) => ({
    version: m.version,
    fileName: m.fileName,
    checksum: m.checksum,
  });

  it('returns what is not applied yet, in order', () => {
    const all = [migration(1), migration(2), migration(3)];
    expect(
      pendingMigrations(all, [applied(all[0] as CassandraMigration)]).pending.map((m) => m.version),
    ).toEqual([2, 3]);
    expect(pendingMigrations(all, all.map(applied)).pending).toEqual([]);
  });

  it('refuses a migration edited after it was applied', () => {
    expect(() => pendingMigrations([migration(1, 'new')], [applied(migration(1, 'old'))])).toThrow(
      /001_m1\.cql was changed after it was applied/,
    );
  });

  it('refuses a pending migration below the latest applied one', () => {
    expect(() =>
      pendingMigrations(
        [migration(1), migration(2), migration(3)],
        [applied(migration(1)), applied(migration(3))],
      ),
    ).toThrow(/002_m2\.cql is pending but version 3 is already applied/);
  });

  it('reports versions applied by a newer release without failing', () => {
    const plan = pendingMigrations([migration(1)], [applied(migration(1)), applied(migration(2))]);
    expect(plan.pending).toEqual([]);
    expect(plan.unknownApplied.map((m) => m.version)).toEqual([2]);
  });
});

describe('replicationCql', () => {
  it('renders SimpleStrategy and NetworkTopologyStrategy', () => {
    expect(replicationCql({ class: 'SimpleStrategy', replicationFactor: 1 })).toBe(
      "{'class': 'SimpleStrategy', 'replication_factor': 1}",
    );
    expect(replicationCql({ class: 'NetworkTopologyStrategy', dataCenters: { eu1: 3, us1: 2 } })).toBe(
      "{'class': 'NetworkTopologyStrategy', 'eu1': 3, 'us1': 2}",
    );
  });

  it('refuses bad factors and data center names', () => {
    expect(() => replicationCql({ class: 'SimpleStrategy', replicationFactor: 0 })).toThrow(
      CassandraMigrationError,
    );
    expect(() => replicationCql({ class: 'NetworkTopologyStrategy', dataCenters: {} })).toThrow(
      /at least one/,
    );
    expect(() => replicationCql({ class: 'NetworkTopologyStrategy', dataCenters: { "dc'1": 1 } })).toThrow(
      /invalid data center/,
    );
  });
});

describe('assertCqlIdentifier', () => {
  it('accepts keyspace names and refuses injection or overlong names', () => {
    expect(() => assertCqlIdentifier('delivery_query')).not.toThrow();
    expect(() => assertCqlIdentifier('ks; DROP KEYSPACE x')).toThrow(CassandraMigrationError);
    expect(() => assertCqlIdentifier('a'.repeat(49))).toThrow(/at most 48/);
    expect(() => assertCqlIdentifier('1abc')).toThrow();
  });
});
