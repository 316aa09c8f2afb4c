import {
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  Inject,
  Injectable,
} from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';
import { RouteCatalog } from './route-catalog';

/** Stops watching the token and JWKS files when the app shuts down. */
@Injectable()
class AuthLifecycle implements OnApplicationShutdown {
  constructor(@Inject(Authenticator) private readonly auth: Authenticator) {}

  onApplicationShutdown(): void {
    this.auth.close();
  }
}

/** The global auth guard over every controller of the app, and the catalog of its routes. */
@Module({})
export class AuthModule {
  static forRoot(authenticator: Authenticator): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: Authenticator, useValue: authenticator },
        { provide: APP_GUARD, useClass: AuthGuard },
        RouteCatalog,
        AuthLifecycle,
      ],
      exports: [Authenticator, RouteCatalog],
    };
  }
}
