// Loopback HTTP listener for the stand-in receivers: listen on 127.0.0.1, track open sockets, and go
// down / come back up on the same port so a client sees real connection errors, not fake responses.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How a downed receiver treats connection attempts. */
export type OutageMode =
  /** Stop listening: new connections get ECONNREFUSED. */
  | 'refuse'
  /** Keep listening but reset every connection as it is accepted: the client sees ECONNRESET / socket closed. */
  | 'reset';

export interface LoopbackServer {
  readonly url: string;
  readonly port: number;
  readonly isDown: boolean;
  /** Drops every open connection (in-flight requests fail) and stops serving until {@link up}. */
  down(mode?: OutageMode): Promise<void>;
  /** Serves again on the same port. No-op when already up. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function listenLoopback(handler: RequestListener, port = 0): Promise<LoopbackServer> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  let outage: OutageMode | undefined;
  let closed = false;

  server.on('connection', (socket) => {
    if (outage === 'reset') {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that hangs up mid-request must not take the test process down with it.
  server.on('clientError', (_err, socket) => socket.destroy());

  await listen(server, port);
  const boundPort = (server.address() as AddressInfo).port;

  const dropConnections = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };

  return {
    url: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    get isDown() {
      return outage !== undefined;
    },
    async down(mode: OutageMode = 'refuse') {
      if (closed) throw new Error('receiver is stopped');
      if (outage === mode) return;
      if (outage === 'refuse') await listen(server, boundPort);
      outage = mode;
      dropConnections();
      if (mode === 'refuse') await stopListening(server);
    },
    async up() {
      if (closed) throw new Error('receiver is stopped');
      if (outage === 'refuse') await listen(server, boundPort);
      outage = undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      dropConnections();
      if (outage !== 'refuse') await stopListening(server);
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function stopListening(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
