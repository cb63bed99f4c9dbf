export type { Broker, MessageHandler } from './broker.ts';
export { createRedisBroker, type RedisBrokerOptions } from './broker-redis.ts';
export { createMemoryBroker, createMemoryHub, type MemoryBrokerOptions, type MemoryHub } from './broker-memory.ts';
