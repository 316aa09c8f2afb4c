export * from './types';
export * from './http';
export * from './provenance';
export * from './verified-download';
export * from './agent-simulator';
export * from './cli-options';
