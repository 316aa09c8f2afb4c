export * from './version-control';
export * from './waves';
export * from './relay-rule';
export * from './rollout';
