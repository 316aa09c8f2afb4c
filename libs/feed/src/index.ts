export * from './feed-error';
export * from './feed-source';
export * from './index-parse';
export * from './url-policy';
export { MAX_REDIRECTS } from './http-source';
