// Accounts over real HTTP: register, login, me, email normalization, JWT verification, operator injection, login rate limit.
import crypto from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { api, registerUser, startTestPlatform, TEST_JWT_SECRET, type TestPlatform } from '../support/test-platform';

const PASSWORD = 'correct horse battery staple';
const uniqueEmail = (label: string) => `${label}-${crypto.randomBytes(4).toString('hex')}@example.com`;

describe('accounts (HTTP)', () => {
  let test: TestPlatform;
  let url: string;

  before(async () => {
    test = await startTestPlatform();
    url = test.url;
  });
  after(async () => {
    await test?.stop();
  });

  describe('register / login / me', () => {
    it('registers with a first workspace owned by the new user', async () => {
      const email = uniqueEmail('owner');
      const response = await api(url, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Ada' } });
      expect(response.status).to.equal(201);
      expect(response.body.token).to.be.a('string');
      expect(response.body.user).to.deep.equal({ id: response.body.user.id, email, name: 'Ada' });
      expect(response.body.user.id).to.match(/^[a-f0-9]{24}$/);
      expect(response.body.workspace).to.include({ role: 'owner' });
      expect(response.body.workspace.id).to.be.a('string');
      expect(response.body.workspace.name).to.be.a('string');
      expect(response.text).not.to.include('passwordHash');
      expect(response.text).not.to.include(PASSWORD);

      const me = await api(url, 'GET', '/api/auth/me', { token: response.body.token });
      expect(me.status).to.equal(200);
      expect(me.body.user).to.deep.equal(response.body.user);
      expect(me.body.workspaces).to.deep.equal([response.body.workspace]);
    });

    it('normalizes emails (trim, lowercase) on register and login', async () => {
      const local = `Mixed.Case-${crypto.randomBytes(4).toString('hex')}`;
      const response = await api(url, 'POST', '/api/auth/register', { body: { email: `  ${local}@Example.COM  `, password: PASSWORD, name: 'Grace' } });
      expect(response.status).to.equal(201);
      expect(response.body.user.email).to.equal(`${local.toLowerCase()}@example.com`);

      const login = await api(url, 'POST', '/api/auth/login', { body: { email: ` ${local.toUpperCase()}@EXAMPLE.com `, password: PASSWORD } });
      expect(login.status).to.equal(200);
      expect(login.body.token).to.be.a('string');
      expect(login.body.user).to.deep.equal(response.body.user);
    });

    it('answers 409 for a duplicate email, whatever its case', async () => {
      const email = uniqueEmail('dup');
      expect((await api(url, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'One' } })).status).to.equal(201);
      const again = await api(url, 'POST', '/api/auth/register', { body: { email: email.toUpperCase(), password: PASSWORD, name: 'Two' } });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.be.a('string');
    });

    it('lets exactly one of several racing registrations of one email win', async () => {
      const email = uniqueEmail('race');
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, index) =>
          api(url, 'POST', '/api/auth/register', { body: { email: index % 2 ? email.toUpperCase() : email, password: PASSWORD, name: `Racer ${index}` } }),
        ),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).to.deep.equal([201, 409, 409, 409, 409, 409]);
      const users = await test.platform.models.User.find({ email }).lean();
      expect(users).to.have.length(1);
      // The losers left nothing behind: one user, one workspace membership.
      expect(await test.platform.models.Membership.countDocuments({ userId: users[0]!._id })).to.equal(1);
    });

    it('refuses a password under 8 characters with 400', async () => {
      const response = await api(url, 'POST', '/api/auth/register', { body: { email: uniqueEmail('short'), password: '1234567', name: 'Short' } });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('VALIDATION_FAILED');
    });

    it('answers 401 for a wrong password and for an unknown email, with the same message', async () => {
      const user = await registerUser(url);
      const wrongPassword = await api(url, 'POST', '/api/auth/login', { body: { email: user.email, password: 'not the password' } });
      const unknownEmail = await api(url, 'POST', '/api/auth/login', { body: { email: uniqueEmail('nobody'), password: PASSWORD } });
      expect(wrongPassword.status).to.equal(401);
      expect(unknownEmail.status).to.equal(401);
      expect(wrongPassword.body.error).to.deep.equal(unknownEmail.body.error);
      expect(wrongPassword.body.token).to.equal(undefined);
    });

    it('answers 401 on /me without a token or with garbage', async () => {
      expect((await api(url, 'GET', '/api/auth/me')).status).to.equal(401);
      expect((await api(url, 'GET', '/api/auth/me', { token: 'not-a-jwt' })).status).to.equal(401);
      expect((await api(url, 'GET', '/api/auth/me', { headers: { authorization: 'Basic Zm9vOmJhcg==' } })).status).to.equal(401);
    });
  });

  describe('JWT verification', () => {
    let userId: string;
    const options = { subject: '', issuer: 'agent-host', audience: 'agent-host-api', expiresIn: 600 } as jwt.SignOptions;

    let sessionId: string;

    before(async () => {
      const registered = await registerUser(url);
      userId = registered.user.id;
      // Every token names its session (jti): these forged tokens name the user's real one, so each is refused only
      // for what the test says.
      sessionId = (jwt.decode(registered.token) as jwt.JwtPayload).jti!;
      options.subject = userId;
      options.jwtid = sessionId;
    });

    it('accepts a correctly signed token (control)', async () => {
      const token = jwt.sign({}, TEST_JWT_SECRET, { ...options, algorithm: 'HS256' });
      expect((await api(url, 'GET', '/api/auth/me', { token })).status).to.equal(200);
    });

    it('refuses a correctly signed token without a session, or naming a session that is not the user\'s', async () => {
      const { jwtid: _jwtid, ...withoutSession } = options;
      expect((await api(url, 'GET', '/api/auth/me', { token: jwt.sign({}, TEST_JWT_SECRET, { ...withoutSession, algorithm: 'HS256' }) })).status).to.equal(401);
      const unknownSession = jwt.sign({}, TEST_JWT_SECRET, { ...options, jwtid: 'AAAAAAAAAAAAAAAAAAAAAAAA', algorithm: 'HS256' });
      expect((await api(url, 'GET', '/api/auth/me', { token: unknownSession })).status).to.equal(401);
      const other = await registerUser(url);
      const someoneElsesSession = jwt.sign({}, TEST_JWT_SECRET, { ...options, jwtid: (jwt.decode(other.token) as jwt.JwtPayload).jti!, algorithm: 'HS256' });
      expect((await api(url, 'GET', '/api/auth/me', { token: someoneElsesSession })).status).to.equal(401);
    });

    it('refuses alg "none"', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const payload = Buffer.from(JSON.stringify({ sub: userId, iss: 'agent-host', aud: 'agent-host-api', iat: now, exp: now + 600 })).toString('base64url');
      expect((await api(url, 'GET', '/api/auth/me', { token: `${header}.${payload}.` })).status).to.equal(401);
      const viaLibrary = jwt.sign({ sub: userId, iss: 'agent-host', aud: 'agent-host-api', exp: now + 600 }, null as unknown as string, { algorithm: 'none' });
      expect((await api(url, 'GET', '/api/auth/me', { token: viaLibrary })).status).to.equal(401);
    });

    it('refuses a token signed with another secret', async () => {
      const token = jwt.sign({}, 'another-secret-that-is-also-long-enough-000', { ...options, algorithm: 'HS256' });
      expect((await api(url, 'GET', '/api/auth/me', { token })).status).to.equal(401);
    });

    it('refuses another HMAC algorithm with the right secret (HS256 is pinned)', async () => {
      const token = jwt.sign({}, TEST_JWT_SECRET, { ...options, algorithm: 'HS512' });
      expect((await api(url, 'GET', '/api/auth/me', { token })).status).to.equal(401);
    });

    it('refuses an expired token', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = jwt.sign({ sub: userId, jti: sessionId, iss: 'agent-host', aud: 'agent-host-api', iat: now - 7200, exp: now - 3600 }, TEST_JWT_SECRET, { algorithm: 'HS256' });
      expect((await api(url, 'GET', '/api/auth/me', { token })).status).to.equal(401);
    });

    it('refuses a token without expiry', async () => {
      const token = jwt.sign({}, TEST_JWT_SECRET, { subject: userId, jwtid: sessionId, issuer: 'agent-host', audience: 'agent-host-api', algorithm: 'HS256' });
      expect((await api(url, 'GET', '/api/auth/me', { token })).status).to.equal(401);
    });

    it('refuses a wrong issuer or audience', async () => {
      const wrongIssuer = jwt.sign({}, TEST_JWT_SECRET, { ...options, issuer: 'someone-else', algorithm: 'HS256' });
      const wrongAudience = jwt.sign({}, TEST_JWT_SECRET, { ...options, audience: 'another-api', algorithm: 'HS256' });
      expect((await api(url, 'GET', '/api/auth/me', { token: wrongIssuer })).status).to.equal(401);
      expect((await api(url, 'GET', '/api/auth/me', { token: wrongAudience })).status).to.equal(401);
    });
  });

  describe('operator injection', () => {
    it('answers 400 to a login with query operators instead of strings', async () => {
      await registerUser(url);
      const bodies = [
        { email: { $gt: '' }, password: { $gt: '' } },
        { email: { $ne: null }, password: 'whatever1' },
        { email: 'someone@example.com', password: { $ne: '' } },
        { email: { $regex: '.*' }, password: { $exists: true } },
      ];
      for (const body of bodies) {
        const response = await api(url, 'POST', '/api/auth/login', { body });
        expect(response.status, JSON.stringify(body)).to.equal(400);
        expect(response.body.token).to.equal(undefined);
      }
    });

    it('answers 400 to a registration with operator objects in any field', async () => {
      const valid = { email: uniqueEmail('op'), password: PASSWORD, name: 'Op' };
      for (const field of Object.keys(valid) as (keyof typeof valid)[]) {
        const response = await api(url, 'POST', '/api/auth/register', { body: { ...valid, [field]: { $gt: '' } } });
        expect(response.status, field).to.equal(400);
      }
    });
  });

  describe('login rate limit', () => {
    let limited: TestPlatform;
    before(async () => {
      limited = await startTestPlatform({ authRateLimits: { loginFailuresPerWindow: 5 } });
    });
    after(async () => {
      await limited?.stop();
    });

    it('answers 429 after too many failed logins, even with the right password then', async () => {
      const user = await registerUser(limited.url);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 7; attempt += 1) {
        statuses.push((await api(limited.url, 'POST', '/api/auth/login', { body: { email: user.email, password: `wrong-password-${attempt}` } })).status);
      }
      expect(statuses.slice(0, 5)).to.deep.equal([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).to.deep.equal([429, 429]);
      const blocked = await api(limited.url, 'POST', '/api/auth/login', { body: { email: user.email.toUpperCase(), password: user.password } });
      expect(blocked.status).to.equal(429);
      expect(blocked.body.error.code).to.equal('TOO_MANY_ATTEMPTS');
    });
  });
});
