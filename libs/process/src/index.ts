export { runningChildren, stopAllChildren } from './child-registry';
export * from './managed-process';
export * from './readiness';
export * from './repo-root';
export * from './nats-server';
export * from './ferretdb';
export * from './infra';
export * from './nats-auth';
export * from './gateway';
