import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { JetStreamConnection } from './connection';
import { EventPublisher } from './event-publisher';

/**
 * Nest calls shutdown hooks after it closed the microservice servers, so the JetStream server has
 * finished draining its handlers (and their publishes) before the connection goes.
 */
@Injectable()
class JetStreamShutdown implements OnApplicationShutdown {
  constructor(@Inject(JetStreamConnection) private readonly connection: JetStreamConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

@Global()
@Module({})
export class JetStreamModule {
  /** The connection is made before Nest starts (streams must exist first), hence a value, not a factory. */
  static forRoot(connection: JetStreamConnection, source: string): DynamicModule {
    return {
      module: JetStreamModule,
      global: true,
      providers: [
        { provide: JetStreamConnection, useValue: connection },
        { provide: EventPublisher, useValue: new EventPublisher(connection, source) },
        JetStreamShutdown,
      ],
      exports: [JetStreamConnection, EventPublisher],
    };
  }
}
