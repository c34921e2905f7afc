import { SignJWT } from 'jose';
import { assertOwnerOrAdmin, createTokenVerifier, signToken } from './auth';
import { ForbiddenError, UnauthorizedError } from './errors';

const cfg = {
  AUTH_JWT_SECRET: 'a-test-secret-that-is-long-enough-0123456789',
  AUTH_JWT_ISSUER: 'dispatch',
  AUTH_JWT_AUDIENCE: 'dispatch-api',
};
const verify = createTokenVerifier(cfg);

describe('JWT auth', () => {
  it('round-trips a principal', async () => {
    const token = await signToken(cfg, { subject: 'cust-1', roles: ['customer'] });
    await expect(verify(token)).resolves.toMatchObject({ subject: 'cust-1', roles: ['customer'] });
  });

  it('tells when the token expires', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const principal = await verify(await signToken(cfg, { subject: 'cust-1', roles: ['customer'] }, '90s'));
    expect(principal.expiresAt).toBeInstanceOf(Date);
    const expiresAt = principal.expiresAt?.getTime() ?? 0;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 90_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 90_000);
  });

  it('rejects a token signed with another secret', async () => {
    const token = await signToken(
      { ...cfg, AUTH_JWT_SECRET: 'another-secret-that-is-long-enough-987654' },
      { subject: 'cust-1', roles: ['admin'] },
    );
    await expect(verify(token)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('rejects an expired token, the wrong audience and missing roles', async () => {
    await expect(verify(await signToken(cfg, { subject: 'c', roles: ['customer'] }, '-1m'))).rejects.toThrow(
      /expired/,
    );
    const otherAudience = await signToken(
      { ...cfg, AUTH_JWT_AUDIENCE: 'elsewhere' },
      { subject: 'c', roles: ['admin'] },
    );
    await expect(verify(otherAudience)).rejects.toBeInstanceOf(UnauthorizedError);
    const noRoles = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('c')
      .setIssuer(cfg.AUTH_JWT_ISSUER)
      .setAudience(cfg.AUTH_JWT_AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(cfg.AUTH_JWT_SECRET));
    await expect(verify(noRoles)).rejects.toThrow(/roles/);
  });

  it('rejects the none algorithm', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ sub: 'c', roles: ['admin'], iss: 'dispatch', aud: 'dispatch-api' }),
    ).toString('base64url');
    await expect(verify(`${header}.${body}.`)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('lets owners and admins through, nobody else', () => {
    expect(() => assertOwnerOrAdmin({ subject: 'a', roles: ['customer'] }, 'a')).not.toThrow();
    expect(() => assertOwnerOrAdmin({ subject: 'x', roles: ['admin'] }, 'a')).not.toThrow();
    expect(() => assertOwnerOrAdmin({ subject: 'b', roles: ['customer'] }, 'a')).toThrow(ForbiddenError);
  });
});
