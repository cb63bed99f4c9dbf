// The built-in front door as its own process, started by scripts/start.ts when nginx is not used.
// The start command passes the addresses: FRONT_DOOR_LISTEN=host:port, FRONT_DOOR_API=host:port,
// FRONT_DOOR_GATEWAYS=host:port,host:port,…
import { createLogger } from '@im/logger';
import { exitWithMessage, loadConfigOrExit, onShutdown } from '@im/runtime';
import type { Upstream } from './nginx-config.ts';
import { createNodeFrontDoor } from './node-front-door.ts';

const config = loadConfigOrExit();
const logger = createLogger({ service: 'front-door', level: config.log.level });

const listen = address('FRONT_DOOR_LISTEN', process.env.FRONT_DOOR_LISTEN);
const api = address('FRONT_DOOR_API', process.env.FRONT_DOOR_API);
const gateways = (process.env.FRONT_DOOR_GATEWAYS ?? '').split(',').filter(Boolean).map((value) => address('FRONT_DOOR_GATEWAYS', value));
if (gateways.length === 0) exitWithMessage('front door: FRONT_DOOR_GATEWAYS names no gateway');

const door = createNodeFrontDoor({ api, gateways, logger, webRoot: config.web.root });
// The same accept queue as the gateways (gateway.listen_backlog): a dead gateway's clients come back at once.
door.server.listen({ port: listen.port, host: listen.host, backlog: config.gateway.listen_backlog });
door.server.once('error', (err) => exitWithMessage(`front door: cannot listen on ${listen.host}:${listen.port}: ${err.message}`));
door.server.once('listening', () => {
  logger.info({ url: `http://${listen.host}:${listen.port}`, api: `${api.host}:${api.port}`, gateways: gateways.map((g) => `${g.host}:${g.port}`) }, 'front door listening');
});
onShutdown(logger, () => door.close());

function address(name: string, value: string | undefined): Upstream {
  const match = /^(.+):(\d{1,5})$/.exec(value ?? '');
  if (!match) exitWithMessage(`front door: ${name} must be host:port, got ${JSON.stringify(value ?? '')}`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
}
