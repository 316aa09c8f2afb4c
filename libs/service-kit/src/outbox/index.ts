export * from './outbox';
export * from './outbox-repository';
export * from './stage';
