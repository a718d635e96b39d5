// Docker healthchecks for docker-compose.yaml's components. The image has node
// and no curl, so each check is a small node program: exit 0 when the component
// answers, exit 1 with the reason on stderr when it does not (Docker keeps the
// output in `docker inspect`).
//
//   etcd URL                           the etcd client URL answers a Maintenance Status call
//   https URL --cacert FILE [--servername NAME]
//                                      an HTTPS GET, verified against the CA, answers 200
//   http URL                           an HTTP GET answers 200
//   unix PATH                          something accepts connections on the unix socket
//   connected --command NAME --to HOST:PORT
//                                      the `k8s-trace-sim NAME` process holds an established
//                                      TCP connection to HOST:PORT (for the scheduler, which,
//                                      unlike kube-scheduler, serves no /healthz of its own)
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

const TIMEOUT_MS = 2500;

function get(url, opts) {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { ...opts, timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${body.trim().slice(0, 200)}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function etcd(url) {
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({ hosts: url, dialTimeout: TIMEOUT_MS });
  try {
    await Promise.race([
      client.maintenance.status(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref()),
    ]);
  } finally {
    client.close();
  }
}

function unix(path) {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.setTimeout(TIMEOUT_MS, () => sock.destroy(new Error(`no answer in ${TIMEOUT_MS} ms`)));
    sock.once('connect', () => {
      sock.destroy();
      resolve();
    });
    sock.once('error', reject);
  });
}

/** An address from /proc/net/tcp{,6}: hex, each 32-bit word in host (little-endian) order. */
function procAddress(hex) {
  const words = hex.toLowerCase().match(/.{8}/g).map((w) => w.match(/../g).reverse().join(''));
  if (words.length === 1) return words[0].match(/../g).map((b) => parseInt(b, 16)).join('.');
  const v6 = words.join('');
  // An IPv4 peer of an IPv6 socket shows as ::ffff:a.b.c.d.
  if (v6.startsWith('00000000000000000000ffff')) return v6.slice(24).match(/../g).map((b) => parseInt(b, 16)).join('.');
  return v6.match(/.{4}/g).join(':');
}

/** Socket inodes of the established TCP connections (state 01) to one of `ips` on `port`. */
function establishedTo(ips, port) {
  const inodes = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01') continue;
      const [addr, p] = f[2].split(':');
      if (parseInt(p, 16) === port && ips.has(procAddress(addr))) inodes.add(f[9]);
    }
  }
  return inodes;
}

async function connected(command, to) {
  const m = /^(.+):(\d+)$/.exec(to ?? '');
  if (!command || !m) throw new Error('want --command NAME --to HOST:PORT');
  const ips = new Set((await lookup(m[1], { all: true })).map((a) => a.address));
  const inodes = establishedTo(ips, Number(m[2]));
  let found = false;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let argv;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const cli = argv.findIndex((a) => a.endsWith('k8s-trace-sim.js'));
    if (cli < 0 || argv[cli + 1] !== command) continue;
    found = true;
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const s = /^socket:\[(\d+)\]$/.exec(target);
      if (s && inodes.has(s[1])) return;
    }
  }
  throw new Error(found ? `the ${command} process has no established connection to ${to}` : `no k8s-trace-sim ${command} process`);
}

const CHECKS = {
  etcd: { usage: 'etcd URL', args: 1, run: ([url]) => etcd(url) },
  https: {
    usage: 'https URL --cacert FILE [--servername NAME]',
    args: 1,
    options: { cacert: { type: 'string' }, servername: { type: 'string' } },
    run: ([url], o) => {
      if (!o.cacert) throw new Error('--cacert is required');
      return get(url, { ca: readFileSync(o.cacert), ...(o.servername ? { servername: o.servername } : {}) });
    },
  },
  http: { usage: 'http URL', args: 1, run: ([url]) => get(url, {}) },
  unix: { usage: 'unix PATH', args: 1, run: ([path]) => unix(path) },
  connected: {
    usage: 'connected --command NAME --to HOST:PORT',
    args: 0,
    options: { command: { type: 'string' }, to: { type: 'string' } },
    run: (_, o) => connected(o.command, o.to),
  },
};

const [kind, ...rest] = process.argv.slice(2);
const check = CHECKS[kind];
if (!check) {
  process.stderr.write(`usage: healthcheck.mjs ${Object.values(CHECKS).map((c) => c.usage).join(' | ')}\n`);
  process.exit(2);
}
try {
  const { values, positionals } = parseArgs({ args: rest, options: check.options ?? {}, allowPositionals: true, strict: true });
  if (positionals.length !== check.args) throw new Error(`usage: healthcheck.mjs ${check.usage}`);
  await check.run(positionals, values);
  process.exit(0);
} catch (err) {
  process.stderr.write(`unhealthy: ${err.message}\n`);
  process.exit(1);
}
