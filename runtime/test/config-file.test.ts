import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ContainerdConfigError,
  DEFAULT_FILE_CONFIG,
  K3S_V1_27_1_TEMPLATE_DATA,
  loadContainerdConfig,
  parseContainerdToml,
  renderedPath,
  renderK3sTemplate,
} from '../src/config-file.js';
import { CONTAINERD_PROFILES } from '../src/spans.js';

const V17 = CONTAINERD_PROFILES['1.7.1'];
const V21 = CONTAINERD_PROFILES['2.1.4'];

/**
 * A containerd 1.7 template in k3s's style (fixtures/k3s-containerd.toml.tmpl,
 * written for these tests): conditionals, eq/not, else, ranges over maps,
 * printf "%q" and trim markers, as k3s's own template uses them.
 */
const TUTORIAL_TEMPLATE = readFileSync(new URL('./fixtures/k3s-containerd.toml.tmpl', import.meta.url), 'utf8');

/** What k3s v1.27.1's node defaults make of it (no registries, no extra runtimes, flannel on). */
const TUTORIAL_RENDERED = `# A containerd 1.7 configuration template in the style k3s reads from
# agent/etc/containerd/config.toml.tmpl, written for these tests.
version = 2

[plugins."io.containerd.internal.v1.opt"]
  path = "/var/lib/rancher/k3s/agent/containerd"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "10010"
  enable_selinux = false
  enable_unprivileged_ports = true
  sandbox_image = "docker.io/rancher/mirrored-pause:3.6"

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  disable_snapshot_annotations = true

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/bin"
  conf_dir = "/var/lib/rancher/k3s/agent/etc/cni/net.d"


[plugins."io.containerd.tracing.processor.v1.otlp"]
  endpoint = "collector.example:4317"
  protocol = "grpc"
  insecure = true

[plugins."io.containerd.internal.v1.tracing"]
  sampling_ratio = 1.0
  service_name = "containerd"
`;

const TUTORIAL_TRACING = {
  version: 2,
  otlp: { endpoint: 'collector.example:4317', protocol: 'grpc', insecure: true },
  tracing: { serviceName: 'containerd', samplingRatio: 1 },
};

const dir = mkdtempSync(join(tmpdir(), 'rt-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const failure = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof ContainerdConfigError ? e.message : `not a ContainerdConfigError: ${String(e)}`;
  }
};

describe('a k3s config.toml.tmpl', () => {
  it('renders as k3s v1.27.1 renders it', () => {
    expect(renderK3sTemplate(TUTORIAL_TEMPLATE)).toBe(TUTORIAL_RENDERED);
  });

  it('parses, for 1.7.1, to its tracing sections', () => {
    expect(parseContainerdToml(V17, 'config.toml', TUTORIAL_RENDERED)).toEqual(TUTORIAL_TRACING);
  });

  it('loads from a .tmpl path: rendered, then parsed', () => {
    expect(loadContainerdConfig(V17, file('config.toml.tmpl', TUTORIAL_TEMPLATE))).toEqual(TUTORIAL_TRACING);
  });

  it('is accepted by 2.1.4, which takes no tracing settings from it', () => {
    expect(loadContainerdConfig(V21, file('config-21.toml.tmpl', TUTORIAL_TEMPLATE))).toEqual({ ...DEFAULT_FILE_CONFIG, version: 2 });
  });

  it('renders registry mirrors and extra runtimes when k3s has them', () => {
    const data = {
      ...K3S_V1_27_1_TEMPLATE_DATA,
      PrivateRegistryConfig: {
        Mirrors: new Map([['docker.io', { Endpoints: ['https://mirror.local', 'https://m2'], Rewrites: new Map() }]]),
        Configs: new Map([['mirror.local', { Auth: { Username: 'u', Password: 'p"w', Auth: '', IdentityToken: '' }, TLS: null }]]),
      },
      ExtraRuntimes: new Map([['nvidia', { RuntimeType: 'io.containerd.runc.v2', BinaryName: '/usr/bin/nvidia-container-runtime' }]]),
    };
    const rendered = renderK3sTemplate(TUTORIAL_TEMPLATE, data);
    expect(rendered).toContain('[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n  endpoint = ["https://mirror.local", "https://m2"]\n');
    expect(rendered).toContain('[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.local".auth]\n  username = "u"\n  password = "p\\"w"\n');
    expect(rendered).toContain('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia".options]\n  BinaryName = "/usr/bin/nvidia-container-runtime"\n');
    // Still TOML, still the same tracing settings.
    expect(parseContainerdToml(V17, 'config.toml', rendered)).toEqual(TUTORIAL_TRACING);
  });
});

describe('containerd config.toml', () => {
  it.each([
    ['no file sections: the plugin defaults', 'version = 2\n', { ...DEFAULT_FILE_CONFIG, version: 2 }],
    [
      'version 2, URI keys, integer ratio',
      'version = 2\n[plugins."io.containerd.tracing.processor.v1.otlp"]\n  endpoint = "127.0.0.1:4317"\n  protocol = "grpc"\n[plugins."io.containerd.internal.v1.tracing"]\n  sampling_ratio = 0\n',
      { version: 2, otlp: { endpoint: '127.0.0.1:4317', protocol: 'grpc', insecure: false }, tracing: { serviceName: 'containerd', samplingRatio: 0 } },
    ],
    [
      'version 1 (no header): plugins by short ID',
      '[plugins.otlp]\n  endpoint = "http://collector:4318"\n[plugins.tracing]\n  sampling_ratio = 0.25\n  service_name = "ctd"\n',
      { version: 1, otlp: { endpoint: 'http://collector:4318', protocol: '', insecure: false }, tracing: { serviceName: 'ctd', samplingRatio: 0.25 } },
    ],
    [
      'version 1 ignores URI-named sections',
      '[plugins."io.containerd.tracing.processor.v1.otlp"]\n  endpoint = "x:1"\n',
      { ...DEFAULT_FILE_CONFIG, version: 1 },
    ],
  ])('1.7.1: %s', (_, text, want) => {
    expect(parseContainerdToml(V17, 'config.toml', text)).toEqual(want);
  });

  it.each([
    [
      '1.7.1, a bad value (pelletier/go-toml v1 wording)',
      V17,
      'version = 2\n[plugins."io.containerd.internal.v1.tracing"]\n  sampling_ratio = \n',
      /^failed to load TOML: \/etc\/containerd\/config\.toml: \(3, 20\): .+/,
    ],
    [
      '2.1.4, a bad value (go-toml v2 wording)',
      V21,
      'version = 2\n[plugins\n',
      /^failed to unmarshal TOML at row 2 column \d+: toml: .+/,
    ],
    [
      '1.7.1, a string where sampling_ratio is a float64',
      V17,
      'version = 2\n[plugins."io.containerd.internal.v1.tracing"]\n  sampling_ratio = "all"\n',
      /^Can't convert all\(string\) to float64$/,
    ],
    [
      '1.7.1, insecure as a string',
      V17,
      'version = 2\n[plugins."io.containerd.tracing.processor.v1.otlp"]\n  insecure = "true"\n',
      /^Can't convert true\(string\) to bool$/,
    ],
    [
      '1.7.1, a version 2 plugin key that is not a URI',
      V17,
      'version = 2\n[plugins.otlp]\n  endpoint = "x:1"\n',
      /^failed to load TOML from \/etc\/containerd\/config\.toml: invalid plugin key URI "otlp" expect io\.containerd\.x\.vx$/,
    ],
    [
      '2.1.4, a version it does not know',
      V21,
      'version = 4\n',
      /^failed to load TOML from \/etc\/containerd\/config\.toml: expected containerd config version equal to or less than `3`, got `4`$/,
    ],
  ])('refuses %s', (_, profile, text, want) => {
    expect(failure(() => parseContainerdToml(profile, '/etc/containerd/config.toml', text))).toMatch(want);
  });

  it('reports a missing file as containerd does', () => {
    const path = join(dir, 'absent.toml');
    expect(failure(() => loadContainerdConfig(V17, path))).toBe(`failed to load TOML: ${path}: open ${path}: no such file or directory`);
  });

  it('reports template errors in Go wording, naming the template as k3s does', () => {
    expect(failure(() => loadContainerdConfig(V17, file('bad.toml.tmpl', 'version = 2\n{{ if .DisableCgroup }}\n')))).toBe(
      // Go counts the line the lexer is on at EOF: after the final newline.
      'template: compiled_template:3: unexpected EOF',
    );
    expect(failure(() => loadContainerdConfig(V17, file('bad2.toml.tmpl', 'path = "{{ .NodeConfig.Nope }}"\n')))).toMatch(
      /^template: compiled_template:1:\d+: executing "compiled_template" at <\.NodeConfig\.Nope>: can't evaluate field Nope/,
    );
  });

  it('reports a TOML error in a rendered template against config.toml, the file k3s writes', () => {
    const path = file('broken.toml.tmpl', 'version = 2\nenable_selinux = {{ .NodeConfig.SELinux }\n');
    expect(failure(() => loadContainerdConfig(V17, path))).toMatch(/^template: compiled_template:2: /);
    const path2 = file('broken2.toml.tmpl', 'version = 2\n[plugins."io.containerd.grpc.v1.cri"\n  snapshotter = "{{ .NodeConfig.AgentConfig.Snapshotter }}"\n');
    expect(failure(() => loadContainerdConfig(V17, path2))).toMatch(new RegExp(`^failed to load TOML: ${renderedPath(path2).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\(2, \\d+\\): `));
  });
});
