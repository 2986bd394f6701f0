// A local TCP proxy a fault test puts between a service and Postgres or Redis, to cut the connection for a while.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** 127.0.0.1 port the proxy listens on. */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  /** Drops every open connection and resets new ones for `ms`; resolves when connections are let through again. */
  cut(ms: number): Promise<void>;
  /** Drops every open connection and resets new ones until `restore()`. */
  down(): void;
  restore(): void;
  readonly isDown: boolean;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (host:port). While down, a client sees its connections reset, as when a server dies. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const goDown = () => {
    down = true;
    for (const [client, upstream] of pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    urlFor(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async cut(ms) {
      goDown();
      await new Promise((r) => setTimeout(r, ms));
      down = false;
    },
    down: goDown,
    restore() {
      down = false;
    },
    get isDown() {
      return down;
    },
    async close() {
      goDown();
      await new Promise((r) => server.close(r));
    },
  };
}

/** host and port of a postgres:// or redis:// URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port) || (u.protocol.startsWith('redis') ? 6379 : 5432) };
}
