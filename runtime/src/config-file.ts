import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { renderGoTemplate, TemplateError, type TemplateStruct } from './go-template.js';
import type { ContainerdProfile } from './spans.js';

/**
 * containerd's config.toml, as far as the simulator acts on it: the two
 * tracing plugin sections, which 1.7 reads and 2.x ignores (it only records a
 * deprecation warning and takes OTEL_* variables instead). The file is still
 * parsed and checked in both, since a bad file stops containerd in both.
 */
export interface ContainerdFileConfig {
  /** The `version` header; a file without one is version 1. */
  readonly version: number;
  /** OTLPConfig of `[plugins."io.containerd.tracing.processor.v1.otlp"]` (version 1: `[plugins.otlp]`). */
  readonly otlp: { readonly endpoint: string; readonly protocol: string; readonly insecure: boolean };
  /** TraceConfig of `[plugins."io.containerd.internal.v1.tracing"]` (version 1: `[plugins.tracing]`). */
  readonly tracing: { readonly serviceName: string; readonly samplingRatio: number };
}

/** The plugins' configuration when the file does not set them (1.7: TraceConfig{ServiceName: "containerd", TraceSamplingRatio: 1.0}). */
export const DEFAULT_FILE_CONFIG: ContainerdFileConfig = {
  version: 1,
  otlp: { endpoint: '', protocol: '', insecure: false },
  tracing: { serviceName: 'containerd', samplingRatio: 1 },
};

/** A file containerd refuses: it exits with this message. */
export class ContainerdConfigError extends Error {
  override name = 'ContainerdConfigError';
}

const OTLP_URI = 'io.containerd.tracing.processor.v1.otlp';
const TRACING_URI = 'io.containerd.internal.v1.tracing';

/**
 * The NodeConfig k3s v1.27.1 renders config.toml.tmpl with
 * (pkg/agent/templates.ContainerdConfig) on a k3d server node: a rootful
 * container with cgroupfs, the default overlayfs snapshotter and pause image,
 * flannel on, no registries.yaml (an empty, non-nil registry) and no extra
 * runtimes found.
 */
export const K3S_V1_27_1_TEMPLATE_DATA: TemplateStruct = {
  NodeConfig: {
    Containerd: {
      Opt: '/var/lib/rancher/k3s/agent/containerd',
      Config: '/var/lib/rancher/k3s/agent/etc/containerd/config.toml',
      Template: '/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl',
      Root: '/var/lib/rancher/k3s/agent/containerd',
      State: '/run/k3s/containerd',
      Address: '/run/k3s/containerd/containerd.sock',
      Log: '/var/lib/rancher/k3s/agent/containerd/containerd.log',
      Registry: '/var/lib/rancher/k3s/agent/etc/containerd/certs.d',
      NoDefault: false,
      SELinux: false,
      Debug: false,
    },
    SELinux: false,
    NoFlannel: false,
    FlannelBackend: 'vxlan',
    AgentConfig: {
      NodeName: 'k3d-tracingcluster-server-0',
      PauseImage: 'docker.io/rancher/mirrored-pause:3.6',
      Snapshotter: 'overlayfs',
      ImageServiceSocket: '',
      CNIBinDir: '/bin',
      CNIConfDir: '/var/lib/rancher/k3s/agent/etc/cni/net.d',
      Systemd: false,
      Rootless: false,
      PrivateRegistry: '/etc/rancher/k3s/registries.yaml',
    },
  },
  DisableCgroup: false,
  SystemdCgroup: false,
  IsRunningInUserNS: false,
  EnableUnprivileged: true,
  PrivateRegistryConfig: { Mirrors: new Map(), Configs: new Map() },
  ExtraRuntimes: new Map(),
  Program: 'k3s',
};

/** k3s writes the rendered template to the path without `.tmpl`, and containerd reads that. */
export function renderedPath(path: string): string {
  return path.endsWith('.tmpl') ? path.slice(0, -'.tmpl'.length) : path;
}

/** k3s' templates.ParseTemplateFromConfig: text/template named "compiled_template". */
export function renderK3sTemplate(src: string, data: TemplateStruct = K3S_V1_27_1_TEMPLATE_DATA): string {
  return renderGoTemplate('compiled_template', src, data);
}

type Toml = Record<string, unknown>;

const isTable = (v: unknown): v is Toml => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** The Go type pelletier/go-toml v1 names in a conversion error. */
function goTypeOf(v: unknown): string {
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Date) return 'time.Time';
  return '*toml.Tree';
}

/** go-toml v1 Unmarshal into one typed field: numbers convert between ints and floats, nothing else converts. */
function typed(v: unknown, want: 'string' | 'bool' | 'float64'): string | boolean | number {
  if (want === 'string' && typeof v === 'string') return v;
  if (want === 'bool' && typeof v === 'boolean') return v;
  if (want === 'float64' && (typeof v === 'number' || typeof v === 'bigint')) return Number(v);
  throw new ContainerdConfigError(`Can't convert ${String(v)}(${goTypeOf(v)}) to ${want}`);
}

function tomlFailure(profile: ContainerdProfile, path: string, err: unknown): ContainerdConfigError {
  if (!(err instanceof TomlError)) return new ContainerdConfigError(String(err));
  const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
  // 1.7 parses with pelletier/go-toml v1, 2.x with v2: each words its failure its own way.
  return new ContainerdConfigError(
    profile.tracingConfig === 'toml'
      ? `failed to load TOML: ${path}: (${err.line}, ${err.column}): ${reason}`
      : `failed to unmarshal TOML at row ${err.line} column ${err.column}: toml: ${reason}`,
  );
}

/** LoadConfig, then the tracing plugins' Decode, for one release; `path` is only for messages. */
export function parseContainerdToml(profile: ContainerdProfile, path: string, text: string): ContainerdFileConfig {
  let doc: Toml;
  try {
    doc = parseToml(text, { integersAsBigInt: true }) as Toml;
  } catch (err) {
    throw tomlFailure(profile, path, err);
  }
  const rawVersion = doc['version'] ?? 0n;
  if (typeof rawVersion !== 'bigint') throw new ContainerdConfigError(`failed to unmarshal TOML: Can't convert ${String(rawVersion)}(${goTypeOf(rawVersion)}) to int`);
  const version = Number(rawVersion) === 0 ? 1 : Number(rawVersion);
  const plugins = isTable(doc['plugins']) ? doc['plugins'] : {};
  if (profile.tracingConfig === 'toml') {
    // Config.ValidateV2: version 2 files name plugins by URI.
    if (version >= 2) {
      for (const key of Object.keys(plugins)) {
        if (!key.startsWith('io.containerd.') || key.split('.').length < 4) {
          throw new ContainerdConfigError(`failed to load TOML from ${path}: invalid plugin key URI "${key}" expect io.containerd.x.vx`);
        }
      }
    }
  } else if (version > 3) {
    throw new ContainerdConfigError(`failed to load TOML from ${path}: expected containerd config version equal to or less than \`3\`, got \`${version}\``);
  }
  // Version 1 files name plugins by their short ID; 2.x migrates them to URIs.
  const otlp = plugins[version >= 2 ? OTLP_URI : 'otlp'];
  const tracing = plugins[version >= 2 ? TRACING_URI : 'tracing'];
  const d = DEFAULT_FILE_CONFIG;
  if (profile.tracingConfig === 'env' || (!isTable(otlp) && !isTable(tracing))) return { ...d, version };
  const get = <T extends string | boolean | number>(table: unknown, key: string, want: 'string' | 'bool' | 'float64', fallback: T): T =>
    isTable(table) && table[key] !== undefined ? (typed(table[key], want) as T) : fallback;
  return {
    version,
    otlp: {
      endpoint: get(otlp, 'endpoint', 'string', d.otlp.endpoint),
      protocol: get(otlp, 'protocol', 'string', d.otlp.protocol),
      insecure: get(otlp, 'insecure', 'bool', d.otlp.insecure),
    },
    tracing: {
      serviceName: get(tracing, 'service_name', 'string', d.tracing.serviceName),
      samplingRatio: get(tracing, 'sampling_ratio', 'float64', d.tracing.samplingRatio),
    },
  };
}

/**
 * `--config FILE`: a config.toml, or a k3s config.toml.tmpl that is first
 * rendered as k3s v1.27.1 would render it. Errors carry containerd's (or, for
 * the template, Go's text/template) wording.
 */
export function loadContainerdConfig(profile: ContainerdProfile, path: string): ContainerdFileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ContainerdConfigError(
      code === 'ENOENT' ? `failed to load TOML: ${path}: open ${path}: no such file or directory` : `failed to load TOML: ${path}: ${String(err)}`,
    );
  }
  if (path.endsWith('.tmpl')) {
    try {
      text = renderK3sTemplate(text);
    } catch (err) {
      if (err instanceof TemplateError) throw new ContainerdConfigError(err.message);
      throw err;
    }
  }
  return parseContainerdToml(profile, renderedPath(path), text);
}
