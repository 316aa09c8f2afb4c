import { TestEnvironment } from 'jest-environment-node';
import { stopAllChildren } from './src/child-registry';

/**
 * Jest's node environment, plus: when a test file is done (after its own afterAll hooks), stops
 * whatever it left running, so a hook that failed half way through starting a pipeline does not
 * leave nats-server, FerretDB or services behind for the rest of the run.
 */
export default class ProcessEnvironment extends TestEnvironment {
  private readonly testPath: string;

  constructor(...args: ConstructorParameters<typeof TestEnvironment>) {
    super(...args);
    this.testPath = args[1].testPath;
  }

  override async teardown(): Promise<void> {
    const left = await stopAllChildren(5_000);
    if (left.length > 0) {
      process.stderr.write(
        `[harness] ${this.testPath} left running, now stopped: ${left.join(', ')}\n`,
      );
    }
    await super.teardown();
  }
}
