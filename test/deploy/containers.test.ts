import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, projectRoot } from '@im/config';
import { BUILD_ENTRIES } from '../../scripts/build/entries.ts';
import { COMPOSE_NGINX, nginxOptionsFromConfig, renderNginxConfig } from '../../scripts/cluster/nginx-config.ts';

// No Docker engine runs where the tests run, so the container files are checked for what can be
// known without one: every file, path, port and command they name exists and agrees with the
// repository, the build and the settings.

const defaults = loadConfig({ env: {} });
const read = (path: string) => readFileSync(resolve(projectRoot, path), 'utf8');
const exists = (path: string) => existsSync(resolve(projectRoot, path));
const buildOutputs = new Set<string>(Object.values(BUILD_ENTRIES).map((entry) => entry.output));
const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;

/** The file a `node [flags] <file> [args]` command runs, checked to be a bundle of the build. */
function assertRunsBuild(command: readonly string[], where: string): void {
  assert.match(command[0] ?? '', /(^|\/)node$/, `${where}: runs node`);
  assert.ok(!command.includes('tsx') && !command.some((arg) => arg.includes('tsx')), `${where}: no tsx in production`);
  const file = command.slice(1).find((arg) => !arg.startsWith('-'));
  assert.ok(file && buildOutputs.has(file), `${where}: ${file} is not a bundle of the build (${[...buildOutputs].join(', ')})`);
}

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
  healthcheck?: { test: string[] };
}

const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const services = compose.services;
const ours = Object.entries(services).filter(([, service]) => service.build === '.');
/** The port each of our services listens on, from its environment (defaults from settings.yaml). */
function portOf(name: string): number {
  const env = services[name]?.environment ?? {};
  if (name === 'api') return Number(env.API_PORT ?? defaults.system.api_port);
  if (name.startsWith('gateway')) return Number(env.GATEWAY_PORT ?? defaults.gateway.port);
  if (name === 'worker') return Number(env.WORKER_PORT ?? defaults.worker.port);
  throw new Error(`no port for ${name}`);
}

describe('Dockerfile', () => {
  const lines = read('Dockerfile').split('\n').filter((line) => !line.startsWith('#'));

  it('copies only what exists, and runs a bundle of the build on plain node', () => {
    for (const line of lines.filter((l) => /^COPY\s/.test(l) && !l.includes('--from='))) {
      const sources = line.replace(/^COPY\s+(--\S+\s+)*/, '').split(/\s+/).slice(0, -1);
      for (const source of sources) assert.ok(exists(source), `${line}: ${source}`);
    }
    const cmd = lines.find((l) => l.startsWith('CMD '));
    assertRunsBuild(JSON.parse(cmd!.slice(4)), 'Dockerfile CMD');
  });

  it('runs npm scripts that exist, and builds before installing without dev packages', () => {
    const text = lines.join('\n');
    for (const [, name] of text.matchAll(/npm run (\S+)/g)) assert.ok(scripts[name!], `npm run ${name}`);
    assert.ok(text.indexOf('npm run build') < text.indexOf('npm ci --omit=dev'), 'build first, then the production install');
  });

  it('exposes the ports the settings give the API, a gateway and the mail worker', () => {
    const exposed = lines.filter((l) => l.startsWith('EXPOSE ')).flatMap((l) => l.split(/\s+/).slice(1).map(Number));
    assert.deepEqual(exposed.sort(), [defaults.system.api_port, defaults.gateway.port, defaults.worker.port].sort());
  });

  it('.dockerignore keeps out nothing the build reads', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(.*/)?').replace(/\*/g, '[^/]*')}(/|$)`));
    const needed = [
      ...Object.values(BUILD_ENTRIES).map((entry) => entry.source),
      'package.json',
      'package-lock.json',
      'scripts/postinstall.mjs',
      'scripts/build/build.ts',
      'prisma/schema.prisma',
      'prisma.config.ts',
      'prisma/migrations/migration_lock.toml',
      'config/settings.yaml',
      'deploy/nginx/im-cluster.conf.template',
      'packages/db/src/index.ts',
    ];
    for (const path of needed) {
      assert.ok(exists(path), path);
      assert.ok(!patterns.some((pattern) => pattern.test(path)), `.dockerignore leaves out ${path}`);
    }
  });
});

describe('compose.yaml', () => {
  it('has the database, Redis, migrations, the API, two gateways, the mail worker and nginx', () => {
    for (const name of ['mariadb', 'redis', 'migrate', 'api', 'gateway-1', 'gateway-2', 'worker', 'nginx']) assert.ok(services[name], name);
  });

  it('runs a bundle of the build in every service built from the Dockerfile', () => {
    assert.ok(ours.length >= 5);
    for (const [name, service] of ours) assertRunsBuild(service.command ?? [], `service ${name}`);
  });

  it('checks readiness on the port each service listens on', () => {
    for (const [name, service] of ours.filter(([name]) => name !== 'migrate')) {
      const url = /http:\/\/127\.0\.0\.1:(\d+)\/readyz/.exec(service.healthcheck?.test.join(' ') ?? '');
      assert.ok(url, `${name} has a /readyz healthcheck`);
      assert.equal(Number(url[1]), portOf(name), name);
    }
  });

  it('names files and services that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) assert.ok(exists(source), `${name}: ${source}`);
        else assert.ok(source in compose.volumes, `${name}: volume ${source} is declared`);
      }
      const dependsOn = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const other of dependsOn) assert.ok(services[other], `${name} depends on ${other}`);
    }
    const env = services.api!.environment!;
    for (const [host] of [/@([\w-]+):/.exec(env.DATABASE_URL!)!.slice(1), /\/\/([\w-]+):/.exec(env.REDIS_URL!)!.slice(1), /\/\/([\w-]+):/.exec(env.SMTP_URL!)!.slice(1)]) {
      assert.ok(services[host!], `the URLs name service ${host}`);
    }
  });

  it("mounts the nginx config rendered for it, whose upstreams are the services' ports", () => {
    assert.equal(
      read('deploy/docker/nginx.conf'),
      renderNginxConfig(nginxOptionsFromConfig(defaults, COMPOSE_NGINX, undefined, COMPOSE_NGINX.upstreams)),
      'regenerate: node --import tsx scripts/cluster/render-nginx.ts --compose --out deploy/docker/nginx.conf',
    );
    for (const upstream of [...COMPOSE_NGINX.upstreams.apis, ...COMPOSE_NGINX.upstreams.gateways]) {
      assert.ok(services[upstream.host], upstream.host);
      assert.equal(upstream.port, portOf(upstream.host), upstream.host);
    }
    assert.deepEqual(services.nginx!.ports, [`${COMPOSE_NGINX.listen}:${COMPOSE_NGINX.listen}`]);
  });

  it('lets Prometheus scrape every process of ours on its port', () => {
    const prometheus = parse(read('deploy/docker/prometheus.yml')) as { scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    const targets = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets)).sort();
    const expected = ours.filter(([name]) => name !== 'migrate').map(([name]) => `${name}:${portOf(name)}`).sort();
    assert.deepEqual(targets, expected);
  });
});

describe('deploy/ for hosts', () => {
  it('systemd units run bundles of the build on plain node', () => {
    for (const unit of ['im-api.service', 'im-gateway@.service', 'im-worker.service', 'im-migrate.service']) {
      const execStart = read(`deploy/systemd/${unit}`).split('\n').find((line) => line.startsWith('ExecStart='))!;
      const command = /exec (\/usr\/bin\/node[^']*)'/.exec(execStart)?.[1] ?? execStart.slice('ExecStart='.length);
      assertRunsBuild(command.split(/\s+/), unit);
    }
  });

  it('npm run start:prod runs the start command of the build', () => {
    assertRunsBuild(scripts['start:prod']!.split(/\s+/), 'start:prod');
  });

  it('the Prometheus example scrapes the default ports', () => {
    const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as { scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
    const ports = Object.fromEntries(prometheus.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((c) => c.targets).map((t) => Number(t.split(':')[1]))]));
    assert.deepEqual(ports, {
      'im-api': [defaults.system.api_port],
      'im-gateway': Array.from({ length: defaults.gateway.count }, (_, i) => defaults.gateway.base_port + i),
      'im-worker': [defaults.worker.port],
    });
  });
});
