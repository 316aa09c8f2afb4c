export * from './latest-report';
export * from './versions';
export * from './summary';
