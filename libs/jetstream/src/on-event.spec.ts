import 'reflect-metadata';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { SUBJECTS, type Subject } from '@sup/contracts';
import { handlerFailures, OnEvent } from './on-event';

class Handlers {
  @OnEvent(SUBJECTS.imported)
  fails(): Promise<void> {
    return Promise.reject(new Error('nope'));
  }

  @OnEvent(SUBJECTS.imported, { consumer: 'projection' })
  @OnEvent(SUBJECTS.rejected, { consumer: 'projection' })
  twice(): string {
    return 'ok';
  }
}

describe('@OnEvent', () => {
  it('registers object patterns, stacking when applied more than once', () => {
    const patterns = (fn: unknown): unknown => Reflect.getMetadata(PATTERN_METADATA, fn as object);
    expect(patterns(Handlers.prototype.fails)).toEqual([
      { subject: SUBJECTS.imported, consumer: 'main' },
    ]);
    expect(patterns(Handlers.prototype.twice)).toEqual([
      { subject: SUBJECTS.rejected, consumer: 'projection' },
      { subject: SUBJECTS.imported, consumer: 'projection' },
    ]);
  });

  it('keeps plain semantics when called outside the transport', async () => {
    await expect(new Handlers().fails()).rejects.toThrow('nope');
    expect(new Handlers().twice()).toBe('ok');
  });

  it('reports a failure to the transport instead of throwing into Nest', async () => {
    const failures: unknown[] = [];
    await handlerFailures.run(failures, () => new Handlers().fails());
    expect(failures).toEqual([new Error('nope')]);
  });

  it('refuses unknown subjects and invalid consumer names', () => {
    expect(() => OnEvent('updates.v1.nope' as Subject)).toThrow('not a subject');
    expect(() => OnEvent(SUBJECTS.imported, { consumer: 'has.dot' })).toThrow('consumer name');
  });
});
