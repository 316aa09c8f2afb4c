import { runService } from '@sup/service-kit';
import { AppModule } from './app.module';
import { loadConfig } from './config';

void runService({
  name: 'alerting',
  loadConfig,
  module: (ctx) => AppModule.register(ctx),
  consumes: true,
});
