export * from './alert-lifecycle';
export * from './alert-rules';
export * from './rules';
