import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';

/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

function isServing(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Gets a unix socket path ready to listen on, as containerd's
 * CreateUnixSocket does (create the directory, unlink what is there), with
 * two refusals of our own: we never remove something that is not a socket,
 * nor a socket another process is still serving on.
 */
export async function prepareSocket(path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(`socket path ${path} is too long (${Buffer.byteLength(path)} bytes; unix sockets allow ${MAX_SOCKET_PATH})`);
  }
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  } catch (err) {
    throw new Error(`failed to create directory for socket ${path}: ${reason(err)}`);
  }
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot use socket path ${path}: ${reason(err)}`);
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; not removing it`);
  if (await isServing(path)) throw new Error(`another process is already serving on ${path}`);
  try {
    unlinkSync(path);
  } catch (err) {
    throw new Error(`failed to remove stale socket ${path}: ${reason(err)}`);
  }
}

/** Removes the socket on shutdown; a socket that is already gone is fine. */
export function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Nothing to clean up.
  }
}
