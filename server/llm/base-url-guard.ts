// SSRF guard for custom provider base URLs: static URL checks, DNS checks, and a fetch that connects only to checked addresses.
import dns from 'node:dns';
import net, { type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { DomainError } from '../errors/domain-error';

/** Answers every address of a host name; the default is the system resolver (`dns.lookup`, all addresses). */
export type HostResolver = (hostname: string) => Promise<dns.LookupAddress[]>;

export interface BaseUrlGuardOptions {
  /** ALLOW_PRIVATE_BASE_URLS: permits loopback, private and link-local targets (cloud metadata stays refused). */
  allowPrivate: boolean;
  /** Another resolver (a custom DNS setup, or a test that needs a name to answer a chosen address). */
  resolveHost?: HostResolver;
}

const resolveWithSystem: HostResolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export type UnsafeBaseUrlReason =
  | 'invalid_url'
  | 'protocol'
  | 'credentials'
  | 'private_address'
  | 'metadata_address'
  | 'unresolvable';

/** An `UNSAFE_BASE_URL` error (400 on HTTP); `reason` is for logs and tests. */
export class UnsafeBaseUrlError extends DomainError {
  readonly reason: UnsafeBaseUrlReason;

  constructor(reason: UnsafeBaseUrlReason, message: string) {
    super('UNSAFE_BASE_URL', message);
    this.name = 'UnsafeBaseUrlError';
    this.reason = reason;
  }
}

type AddressClass = 'public' | 'private' | 'metadata';

// Cloud instance-metadata endpoints hand out credentials; no self-hosted model lives there, so they are refused even
// when private addresses are allowed. AWS (IMDS, ECS, EKS pod identity), GCP/Azure share 169.254.169.254, Alibaba.
const METADATA_ADDRESSES = new Set(
  ['169.254.169.254', '169.254.170.2', '169.254.170.23', '100.100.100.200', 'fd00:ec2::254', 'fd00:ec2::23'].map((text) =>
    ipaddr.parse(text).toNormalizedString(),
  ),
);
const METADATA_HOST_NAMES = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);
// Names that only ever mean "this machine" or "this private network".
const PRIVATE_HOST_NAME_SUFFIXES = ['.localhost', '.internal', '.local', '.home.arpa'];

const PRIVATE_ADDRESS_MESSAGE =
  'The base URL points to a loopback, private, link-local or otherwise non-public address, which this server does not allow';
const METADATA_ADDRESS_MESSAGE = 'The base URL points to a cloud metadata endpoint, which is never allowed';

function normalizeHostName(hostname: string): string {
  let host = hostname.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  // "localhost." is "localhost": a trailing dot only makes the name fully qualified.
  return host.replace(/\.+$/, '');
}

/** The IPv4 address inside ::a.b.c.d (first 96 bits zero; :: and ::1 have their own ranges), if `address` is one. */
function ipv4CompatibleAddress(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (address.kind() !== 'ipv6') return undefined;
  const parts = (address as ipaddr.IPv6).parts;
  if (parts.slice(0, 6).some((part) => part !== 0) || (parts[6] === 0 && parts[7]! <= 1)) return undefined;
  return ipaddr.fromByteArray((address as ipaddr.IPv6).toByteArray().slice(12)) as ipaddr.IPv4;
}

/** Classifies a canonical IP literal (as produced by WHATWG URL parsing or DNS); undefined when `host` is a name. */
function classifyAddress(host: string): AddressClass | undefined {
  if (net.isIP(host) === 0) return undefined;
  let address: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(host);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  if (METADATA_ADDRESSES.has(address.toNormalizedString())) return 'metadata';
  const embedded = ipv4CompatibleAddress(address);
  // The deprecated IPv4-compatible form (::a.b.c.d, which URL parsing writes as ::7f00:1) is never a global address.
  if (embedded) return METADATA_ADDRESSES.has(embedded.toNormalizedString()) ? 'metadata' : 'private';
  // Only global unicast is public. Everything else (loopback, RFC 1918, CGNAT, link-local, unspecified, unique-local,
  // NAT64, 6to4, Teredo, documentation, multicast, reserved) is refused: several of them embed or reach private hosts.
  return address.range() === 'unicast' ? 'public' : 'private';
}

function classifyHostName(host: string): AddressClass {
  if (METADATA_HOST_NAMES.has(host)) return 'metadata';
  if (host === 'localhost' || PRIVATE_HOST_NAME_SUFFIXES.some((suffix) => host.endsWith(suffix))) return 'private';
  return 'public';
}

interface AddressPolicy extends BaseUrlGuardOptions {
  /** Plain http: the resolved address must be private, so http never leaves the private network. */
  privateOnly?: boolean;
}

function assertAllowedClass(addressClass: AddressClass, policy: AddressPolicy): void {
  if (addressClass === 'metadata') throw new UnsafeBaseUrlError('metadata_address', METADATA_ADDRESS_MESSAGE);
  if (addressClass === 'private' && !policy.allowPrivate) {
    throw new UnsafeBaseUrlError('private_address', PRIVATE_ADDRESS_MESSAGE);
  }
  if (addressClass === 'public' && policy.privateOnly) {
    throw new UnsafeBaseUrlError('protocol', 'Plain http is only allowed for private addresses; use https');
  }
}

/** Static checks of a base URL (no DNS). Returns the parsed URL or throws UnsafeBaseUrlError. */
export function assertSafeBaseUrl(url: string, options: BaseUrlGuardOptions): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsafeBaseUrlError('invalid_url', 'The base URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UnsafeBaseUrlError('protocol', 'The base URL must use https');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new UnsafeBaseUrlError('credentials', 'The base URL must not contain a user name or password');
  }
  const host = normalizeHostName(parsed.hostname);
  if (host === '') throw new UnsafeBaseUrlError('invalid_url', 'The base URL has no host');

  if (parsed.protocol === 'http:' && !options.allowPrivate) {
    throw new UnsafeBaseUrlError('protocol', 'The base URL must use https');
  }
  const literalClass = classifyAddress(host);
  // Plain http must stay inside the private network. For an IP literal that is decided here; for a host name it is
  // decided when the name resolves (resolveAndCheckHost with privateOnly, and the lookup of createGuardedFetch).
  assertAllowedClass(literalClass ?? classifyHostName(host), {
    ...options,
    privateOnly: parsed.protocol === 'http:' && literalClass !== undefined,
  });
  return parsed;
}

function assertHostNameAllowed(host: string, policy: AddressPolicy): void {
  const nameClass = classifyHostName(host);
  if (nameClass !== 'public') assertAllowedClass(nameClass, policy);
}

/** Resolves `hostname` now and refuses it if ANY of its addresses is not allowed (a name may resolve to several). */
export async function resolveAndCheckHost(hostname: string, options: BaseUrlGuardOptions & { privateOnly?: boolean }): Promise<void> {
  const host = normalizeHostName(hostname);
  const literalClass = classifyAddress(host);
  if (literalClass) return assertAllowedClass(literalClass, options);
  assertHostNameAllowed(host, options);
  let addresses: dns.LookupAddress[];
  try {
    addresses = await (options.resolveHost ?? resolveWithSystem)(host);
  } catch {
    throw new UnsafeBaseUrlError('unresolvable', `The base URL host "${host}" could not be resolved`);
  }
  assertAddressesAllowed(host, addresses, options);
}

function assertAddressesAllowed(host: string, addresses: dns.LookupAddress[], policy: AddressPolicy): void {
  if (addresses.length === 0) throw new UnsafeBaseUrlError('unresolvable', `The base URL host "${host}" could not be resolved`);
  // An address that is not an IP literal cannot come from a resolver; treat it as private rather than trust it.
  for (const { address } of addresses) assertAllowedClass(classifyAddress(address) ?? 'private', policy);
}

/**
 * A `lookup` for net/tls connect that resolves and refuses unsafe answers in the same step, so the socket connects to
 * exactly the addresses that were checked: a DNS answer that changes between a check and the connect cannot slip through.
 */
function createCheckedLookup(policy: AddressPolicy): LookupFunction {
  const resolveHost = policy.resolveHost ?? resolveWithSystem;
  return (hostname, options, callback) => {
    const host = normalizeHostName(hostname);
    const resolveChecked = async (): Promise<dns.LookupAddress[]> => {
      assertHostNameAllowed(host, policy);
      const answers = await resolveHost(host);
      const wanted = options.family === 4 || options.family === 6 ? answers.filter((answer) => answer.family === options.family) : answers;
      // All answers are checked, not only the ones used: a name with one private address is refused as a whole.
      assertAddressesAllowed(host, answers, policy);
      if (wanted.length === 0) throw new UnsafeBaseUrlError('unresolvable', `The base URL host "${host}" could not be resolved`);
      return wanted;
    };
    resolveChecked().then(
      (addresses) => {
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}

export type GuardedFetch = typeof fetch & {
  /** Closes the pooled keep-alive connections. */
  close(): Promise<void>;
};

function createAgent(policy: AddressPolicy): Agent {
  // Keep-alive stays on (undici's default); the pooled sockets were opened to checked addresses only.
  return new Agent({
    connect: { lookup: createCheckedLookup(policy) },
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
  });
}

/**
 * A fetch for provider SDKs with a custom base URL: every request URL passes assertSafeBaseUrl, connections are made
 * only to addresses the checked lookup accepted, and redirects are never followed (a 3xx comes back as the response,
 * which SDKs treat as an error). IP-literal hosts skip DNS and are covered by the static check.
 */
export function createGuardedFetch(options: BaseUrlGuardOptions): GuardedFetch {
  const httpsAgent = createAgent({ ...options });
  const httpAgent = options.allowPrivate ? createAgent({ ...options, privateOnly: true }) : undefined;

  const guardedFetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const parsed = assertSafeBaseUrl(url, options);
    const dispatcher = parsed.protocol === 'http:' ? httpAgent : httpsAgent;
    if (!dispatcher) throw new UnsafeBaseUrlError('protocol', 'The base URL must use https');
    try {
      const response = await undiciFetch(input as Parameters<typeof undiciFetch>[0], {
        ...(init as UndiciRequestInit | undefined),
        redirect: 'manual',
        dispatcher,
      });
      return response as unknown as Response;
    } catch (error) {
      // undici reports connect failures as TypeError('fetch failed'); surface our refusal as itself.
      if (error instanceof TypeError && error.cause instanceof UnsafeBaseUrlError) throw error.cause;
      throw error;
    }
  };

  return Object.assign(guardedFetch, {
    close: async () => {
      await Promise.all([httpsAgent.close(), httpAgent?.close()]);
    },
  }) as GuardedFetch;
}
