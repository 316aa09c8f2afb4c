import { runService } from '@sup/service-kit';
import { AppModule } from './src/app.module';
import { loadConfig } from './src/config';

void runService({
  name: 'distribution',
  loadConfig,
  module: (ctx) => AppModule.register(ctx),
  consumes: true,
});
