export * from './feed-error';
export * from './feed-source';
