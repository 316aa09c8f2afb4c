export * from './latest-report';
export * from './versions';
export * from './summary';
export * from './latest-wins';
export * from './reporter';
export * from './report-skip';
export * from './cas-winner-store';
