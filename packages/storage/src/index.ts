export { assertSafeKey, type Storage } from './storage.ts';
export { createLocalStorage } from './local-storage.ts';
