export * from './artifact-store';
export * from './fs-artifact-store';
export * from './gridfs-artifact-store';
export * from './create-artifact-store';
