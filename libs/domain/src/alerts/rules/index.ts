export * from './snapshot';
export * from './software-update-available';
export * from './relay-rules';
export * from './security-rules';
export * from './event-rules';
export * from './evaluate';
export * from './rules-state';
