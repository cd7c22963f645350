// The built-in MongoDB-wire-compatible store (development/tests only; see README.md).
export { startWireStore } from './wire-store.server';
export type { WireStoreOptions, WireStoreHandle } from './wire-store.server';
