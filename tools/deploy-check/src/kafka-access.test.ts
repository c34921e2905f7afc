// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell variable syntax, not templates
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { KAFKA_ADMIN, KAFKA_CONTROLLER, type KafkaGrant } from '../../stack/kafka-acls';
import {
  deploymentPrincipals,
  isToolPrincipal,
  KAFKA_ACCESS_HEADER,
  passwordVariable,
  principalSecret,
  renderKafkaAccessScript,
  usernameVariable,
} from './kafka-access';
import { KAFKA_ACCESS_SCRIPT } from './paths';
import { SERVICE_CONFIGS } from './service-configs';

const script = renderKafkaAccessScript();

/** The grants a rendered script gives, read back from its `grant` lines. */
function scriptGrants(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('grant '))
    .flatMap((line) => {
      const [, principal, pattern, operation, ...resources] = line.split(' ');
      return resources.map((resource) => {
        const [type, name] = resource.split(':') as [string, string];
        return `${principal!.replaceAll("'", '')} ${type} ${pattern} ${name.replaceAll("'", '')} ${operation!.toLowerCase()}`;
      });
    })
    .sort();
}

const grantKey = (principal: string, g: KafkaGrant) =>
  `${principal} ${g.resource} ${g.pattern} ${g.name} ${g.operation}`;

test('k8s/base/kafka/access.sh is generated from the current catalogue (tools/stack/kafka-acls.ts)', () => {
  const actual = existsSync(KAFKA_ACCESS_SCRIPT) ? readFileSync(KAFKA_ACCESS_SCRIPT, 'utf8') : '(missing)';
  // On failure: pnpm exec tsx tools/deploy-check/src/cli.ts kafka-acls
  expect(actual).toBe(script);
  expect(actual.startsWith(KAFKA_ACCESS_HEADER)).toBe(true);
  expect(statSync(KAFKA_ACCESS_SCRIPT).mode & 0o111).not.toBe(0);
});

test('the script is valid bash', () => {
  expect(() => execFileSync('bash', ['-n', KAFKA_ACCESS_SCRIPT])).not.toThrow();
});

test('one principal per service and per operator tool, each with exactly its catalogue grants', () => {
  const principals = deploymentPrincipals();
  expect(principals.map((p) => p.name)).toEqual([
    ...SERVICE_CONFIGS.map((s) => s.name),
    'dispatch-dlq',
    'dispatch-rebuild',
  ]);
  const wanted = principals.flatMap((p) => p.grants.map((g) => grantKey(p.name, g))).sort();
  expect(scriptGrants(script)).toEqual(wanted);
});

test('every service login is required, the tools optional; nothing logs in or is granted as admin', () => {
  const logins = script.split('\n').filter((line) => line.startsWith('login '));
  expect(logins).toEqual(
    deploymentPrincipals().map(
      (p) =>
        `login '${p.name}' ${passwordVariable(p.name)} ${usernameVariable(p.name)} ${isToolPrincipal(p.name) ? 'optional' : 'required'}`,
    ),
  );
  expect(passwordVariable('order-service')).toBe('ORDER_SERVICE_KAFKA_PASSWORD');
  expect(passwordVariable('query-api')).toBe('QUERY_API_KAFKA_PASSWORD');
  expect(principalSecret('order-service')).toBe('order-service-kafka');
  expect(principalSecret(KAFKA_ADMIN)).toBe('dispatch-kafka-admin');
  for (const line of [...logins, ...script.split('\n').filter((l) => l.startsWith('grant '))]) {
    expect(line).not.toMatch(new RegExp(`'(${KAFKA_ADMIN}|${KAFKA_CONTROLLER})'`));
  }
  expect(() => renderKafkaAccessScript([{ name: KAFKA_ADMIN, grants: [] }])).toThrow(/not a grantable/);
});

test('refuses a catalogue name it would have to escape (no shell injection through the catalogue)', () => {
  for (const name of ["evil'; rm -rf / #", 'a b', '$(id)']) {
    expect(() =>
      renderKafkaAccessScript([
        {
          name: 'order-service',
          grants: [{ resource: 'topic', name, pattern: 'literal', operation: 'read' }],
        },
      ]),
    ).toThrow(/is not \[A-Za-z0-9._-\]\+/);
    expect(() => renderKafkaAccessScript([{ name, grants: [] }])).toThrow(/is not/);
  }
});

test('the script never puts a password in its output and reads each from its own variable', () => {
  // Every echo/fail names variables, never their values.
  for (const line of script.split('\n').filter((l) => /\b(echo|fail)\b/.test(l))) {
    expect(line).not.toMatch(/\$(password|admin_password|\{!2)/);
  }
  expect(script).toContain('admin_password=${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}');
  expect(script).toContain('umask 077');
  expect(script).toContain(`trap 'rm -rf "$work"' EXIT`);
});
