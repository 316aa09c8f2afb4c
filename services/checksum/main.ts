import { loadBaseConfig, runService } from '@sup/service-kit';
import { AppModule } from './src/app.module';

void runService({
  name: 'checksum',
  loadConfig: (env) => loadBaseConfig('checksum', env),
  module: (ctx) => AppModule.register(ctx),
  consumes: true,
});
