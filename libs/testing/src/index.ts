// Process and infrastructure management moved to @sup/process (`npm start` needs it without the
// test harness); re-exported so suites keep one import for everything they start.
export * from '@sup/process';
export * from './pki';
export * from './feed-builder';
export * from './static-server';
export * from './pipeline';
export * from './memory-versioned-store';
export * from './update-fixtures';
export * from './http-fuzz';
export * from './bundle-builder';
export * from './fleet-reports';
