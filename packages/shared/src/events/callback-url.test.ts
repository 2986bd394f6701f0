// Callback URL policy: internal addresses refused after resolution, credentials refused, operator allow-list.
import { describe, expect, it } from 'vitest';
import { CallbackUrlError, checkCallbackUrl, embeddedIPv4, isInternalAddress } from './callback-url';

const none = { allowHosts: [] };
const resolveTo = (addresses: string[]) => async () => addresses;

describe('isInternalAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['169.254.169.254', true],
    ['10.1.2.3', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.0.10', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['93.184.216.34', false],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['64:ff9b::a9fe:a9fe', true],
    ['2606:4700::6810:84e5', false],
    ['not-an-ip', true],
  ])('%s → %s', (address, internal) => {
    expect(isInternalAddress(address)).toBe(internal);
  });

  it('reads the IPv4 address inside mapped IPv6 forms', () => {
    expect(embeddedIPv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIPv4('[::ffff:169.254.169.254]')).toBe('169.254.169.254');
    expect(embeddedIPv4('2001:db8::1')).toBeNull();
  });
});

describe('checkCallbackUrl', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', /link-local or metadata address \(169\.254\.169\.254/],
    ['http://127.0.0.1:6379/', /loopback.*127\.0\.0\.1/],
    ['http://user:pw@[::1]:22/', /must not carry credentials/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
    ['http://metadata.google.internal/computeMetadata/v1/', /cloud metadata service/],
    ['ftp://example.com/', /absolute http\(s\) URL/],
  ])('refuses %s', async (url, reason) => {
    const err = await checkCallbackUrl(url, none, { resolve: resolveTo(['93.184.216.34']) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallbackUrlError);
    expect((err as Error).message).toMatch(reason);
  });

  it('refuses a name that resolves to an internal address, and accepts one that resolves outside', async () => {
    await expect(checkCallbackUrl('http://hook.example/x', none, { resolve: resolveTo(['93.184.216.34', '10.0.0.5']) })).rejects.toThrow(
      /hook\.example is 10\.0\.0\.5/,
    );
    await expect(checkCallbackUrl('https://hook.example/x', none, { resolve: resolveTo(['93.184.216.34']) })).resolves.toBe(
      'https://hook.example/x',
    );
  });

  it('accepts an unresolvable name at submit time, and rethrows the lookup failure at send time', async () => {
    const fail = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await expect(checkCallbackUrl('https://nowhere.test/', none, { resolve: fail, unresolved: 'accept' })).resolves.toBe('https://nowhere.test/');
    const err = await checkCallbackUrl('https://nowhere.test/', none, { resolve: fail }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(CallbackUrlError);
    expect((err as Error).message).toMatch(/does not resolve/);
  });

  it('lets the operator allow hosts by name, address or range, never credentials', async () => {
    await expect(checkCallbackUrl('http://127.0.0.1:9/', { allowHosts: ['127.0.0.1'] })).resolves.toBe('http://127.0.0.1:9/');
    await expect(checkCallbackUrl('http://localhost:9/', { allowHosts: ['localhost'] })).resolves.toBe('http://localhost:9/');
    await expect(
      checkCallbackUrl('http://svc.internal/', { allowHosts: ['10.0.0.0/8'] }, { resolve: resolveTo(['10.1.1.1']) }),
    ).resolves.toBe('http://svc.internal/');
    await expect(checkCallbackUrl('http://[::1]/', { allowHosts: ['*'] })).resolves.toBe('http://[::1]/');
    await expect(checkCallbackUrl('http://u:p@127.0.0.1/', { allowHosts: ['*'] })).rejects.toThrow(/credentials/);
  });
});
