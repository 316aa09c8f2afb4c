export * from './feed-error';
export * from './feed-source';
export * from './index-parse';
