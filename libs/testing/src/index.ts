export * from './processes';
export * from './nats-server';
export * from './ferretdb';
export * from './infra';
export * from './pki';
export * from './feed-builder';
export * from './static-server';
export * from './pipeline';
