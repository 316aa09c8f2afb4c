export * from './update-view';
export * from './sync-aggregate';
export * from './artifact-refs';
export * from './alerts';
export * from './fleet';
export * from './relays';
export * from './rollouts';
