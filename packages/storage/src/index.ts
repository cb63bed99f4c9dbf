export { TooLargeError, type Storage, type WriteStreamOptions } from './storage.ts';
export { createLocalStorage } from './local-storage.ts';
