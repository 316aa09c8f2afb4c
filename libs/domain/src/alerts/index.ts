export * from './alert-lifecycle';
