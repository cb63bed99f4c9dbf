import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, projectRoot } from '@im/config';
import { findNginx, nginxVersion, supportsErrorLogFlag } from '../../scripts/cluster/front-door.ts';
import { DEPLOY_NGINX_PATHS, nginxOptionsFromConfig, prepareNginxDirs, renderNginxConfig } from '../../scripts/cluster/nginx-config.ts';

/** The settings.yaml defaults, whatever this process's environment says. */
const defaults = loadConfig({ env: {} });
const nginx = findNginx();

describe('nginx config rendered from deploy/nginx/im-cluster.conf.template', () => {
  it('matches deploy/nginx/im-cluster.conf.example for the default settings (render-nginx.ts --deploy)', () => {
    const rendered = renderNginxConfig(nginxOptionsFromConfig(defaults, { ...DEPLOY_NGINX_PATHS, listen: String(defaults.system.port) }));
    const example = readFileSync(resolve(projectRoot, 'deploy/nginx/im-cluster.conf.example'), 'utf8');
    assert.equal(example, rendered, 'regenerate: node --import tsx scripts/cluster/render-nginx.ts --deploy --out deploy/nginx/im-cluster.conf.example');
  });

  it('routes from the settings: every gateway, the API, upload size, socket timeouts above the heartbeat', () => {
    const text = renderNginxConfig(nginxOptionsFromConfig(defaults, { prefix: '/tmp/x' }, 9000));
    const gateways = [...text.matchAll(/^\s*server 127\.0\.0\.1:(\d+) max_fails=1 fail_timeout=10s;$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(gateways, Array.from({ length: defaults.gateway.count }, (_, i) => 9000 + i));
    assert.match(text, new RegExp(`server 127\\.0\\.0\\.1:${defaults.system.api_port};`));
    assert.match(text, new RegExp(`listen 127\\.0\\.0\\.1:${defaults.system.port} backlog=4096;`));
    const bodySize = Number(/client_max_body_size (\d+);/.exec(text)?.[1]);
    assert.ok(bodySize >= defaults.upload.max_file_bytes);
    for (const directive of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const seconds = Number(new RegExp(`${directive} (\\d+)s;`).exec(text)?.[1]);
      assert.ok(seconds * 1000 >= 3 * defaults.gateway.heartbeat_ms, `${directive} outlasts three heartbeats`);
    }
  });

  it('balances over APIs and gateways on other hosts from front_door, so a render without flags keeps them', () => {
    const env = { API_UPSTREAMS: '10.0.0.5:8090,10.0.0.6:8090', GATEWAY_UPSTREAMS: '10.0.0.5:8101,[fd00::7]:8101' };
    const render = (args: string[]) => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cluster/render-nginx.ts', ...args], {
        cwd: projectRoot,
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      return run.stdout;
    };
    const servers = (text: string, upstream: string) =>
      [...(new RegExp(`upstream ${upstream} \\{([^}]*)\\}`).exec(text)?.[1] ?? '').matchAll(/server (\S+?)[ ;]/g)].map((m) => m[1]);
    for (const text of [render(['--prefix', '/tmp/x']), render(['--deploy'])]) {
      assert.deepEqual(servers(text, 'im_api'), ['10.0.0.5:8090', '10.0.0.6:8090']);
      assert.deepEqual(servers(text, 'im_gateways'), ['10.0.0.5:8101', '[fd00::7]:8101']);
    }
    // Flags still win for one render.
    assert.deepEqual(servers(render(['--api', '10.0.0.9:8090', '--api', '10.0.0.10:8090']), 'im_api'), ['10.0.0.9:8090', '10.0.0.10:8090']);
    assert.throws(() => loadConfig({ env: { GATEWAY_UPSTREAMS: 'no-port' } }), /host:port/);
  });

  it('logs only $uri and the redacted query, never $request or $request_uri', () => {
    // Directives only: the comments explain why these variables are not used.
    const text = renderNginxConfig(nginxOptionsFromConfig(defaults, { prefix: '/tmp/x' })).replace(/^\s*#.*$/gm, '');
    const format = /log_format im_cluster[^;]*;/s.exec(text)?.[0] ?? '';
    assert.match(format, /\$uri/);
    assert.match(format, /\$im_args_logged/);
    assert.doesNotMatch(format, /\$request"|\$request |\$request_uri|\$args|\$query_string|\$http_authorization|\$http_referer/);
    assert.doesNotMatch(text, /\$request_uri/);
  });

  it('refuses paths that would break the config', () => {
    assert.throws(() => renderNginxConfig(nginxOptionsFromConfig(defaults, { prefix: '/tmp/with space' })), /must be one word/);
    assert.throws(() => renderNginxConfig({ ...nginxOptionsFromConfig(defaults, { prefix: '/tmp/x' }), gateways: [] }), /at least one gateway/);
  });

  it('passes `nginx -t` when rendered for a private prefix', { skip: nginx ? false : 'nginx not installed' }, () => {
    const prefix = mkdtempSync(join(tmpdir(), 'im-nginx-t-'));
    try {
      const user = process.getuid?.() === 0 ? userInfo().username : undefined;
      const conf = join(prefix, 'im-cluster.conf');
      const options = nginxOptionsFromConfig(defaults, { prefix, user });
      prepareNginxDirs(options);
      writeFileSync(conf, renderNginxConfig(options));
      const errorFlag = supportsErrorLogFlag(nginxVersion(nginx!)) ? ['-e', 'stderr'] : [];
      const run = spawnSync(nginx!, ['-t', '-p', prefix, '-c', conf, ...errorFlag], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /syntax is ok/);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
