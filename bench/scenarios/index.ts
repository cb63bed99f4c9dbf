import type { Scenario } from './context.ts';
import { groupFanout } from './group-fanout.ts';
import { login } from './login.ts';
import { history } from './history.ts';
import { privateChat } from './private.ts';
import { bigRoom } from './big-room.ts';
import { connections } from './connections.ts';
import { reconnectStorm } from './reconnect-storm.ts';
import { soak } from './soak.ts';
import { inbox } from './inbox.ts';

/** Every scenario, by the name `npm run bench -- <name>` takes, in the order `all` runs them. */
export const scenarios: Scenario[] = [groupFanout, login, history, privateChat, bigRoom, connections, reconnectStorm, soak, inbox];
