import { loadBaseConfig, runService } from '@sup/service-kit';
import { AppModule } from './src/app.module';

void runService({
  name: 'alerting',
  loadConfig: (env) => loadBaseConfig('alerting', env),
  module: (ctx) => AppModule.register(ctx),
  consumes: true,
});
