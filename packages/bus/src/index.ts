export type { Broker, MessageHandler, OutgoingMessage } from './broker.ts';
export { createRedisBroker, type RedisBrokerOptions } from './broker-redis.ts';
export { createMemoryBroker, createMemoryHub, type MemoryBrokerOptions, type MemoryHub } from './broker-memory.ts';
export { roomChannel, userChannel } from './chat-channels.ts';
export { decodeBusMessage, encodeStored, encodeTransient, type BusMessage } from './chat-wire.ts';
