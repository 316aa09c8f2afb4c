export * from './merkle';
export * from './byte-range';
export * from './relay-state';
export * from './security-channel';
export * from './provenance';
export * from './cache-eviction';
