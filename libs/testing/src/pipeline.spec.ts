import { runningChildren } from '@sup/process';
import { Pipeline } from './pipeline';

describe('Pipeline.start', () => {
  it('stops every process and server it started when a service does not get ready', async () => {
    const before = runningChildren();
    // A service exits with code 2 on a bad setting; the caller never gets a pipeline to stop.
    await expect(
      Pipeline.start({ trustAnchors: '/nonexistent/trust-anchors.pem', services: ['ingest'] }),
    ).rejects.toThrow(/^ingest exited with code 2 before it could answer \/healthz\/ready/);
    expect(runningChildren()).toEqual(before);
  }, 60_000);
});
