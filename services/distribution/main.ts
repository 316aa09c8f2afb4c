import { loadBaseConfig, runService } from '@sup/service-kit';
import { AppModule } from './src/app.module';

void runService({
  name: 'distribution',
  loadConfig: (env) => loadBaseConfig('distribution', env),
  module: (ctx) => AppModule.register(ctx),
  consumes: true,
});
