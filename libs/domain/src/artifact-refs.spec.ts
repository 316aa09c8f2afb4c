import { acquireRef, BlobBeingDeletedError, releaseRef, type ArtifactRefs } from './artifact-refs';

const KEY = 'a'.repeat(64);
const DELETING: ArtifactRefs = { holders: [], deleting: true };

describe('acquireRef', () => {
  it.each<[string, ArtifactRefs | undefined, string, ArtifactRefs | undefined]>([
    ['the first holder of unknown bytes', undefined, 'u1', { holders: ['u1'] }],
    ['another holder', { holders: ['u1'] }, 'u2', { holders: ['u1', 'u2'] }],
    ['a holder again (idempotent)', { holders: ['u1', 'u2'] }, 'u2', undefined],
    ['a new holder of bytes nobody holds', { holders: [] }, 'u1', { holders: ['u1'] }],
  ])('%s', (_, current, holder, expected) => {
    expect(acquireRef(KEY, current, holder)).toEqual(expected);
  });

  it.each<[string, ArtifactRefs]>([
    ['with nobody left', DELETING],
    ['even by a former holder', { holders: ['u1'], deleting: true }],
  ])('throws BlobBeingDeletedError while the bytes are being deleted, %s', (_, current) => {
    let thrown: unknown;
    try {
      acquireRef(KEY, current, 'u1');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BlobBeingDeletedError);
    expect(thrown).toMatchObject({ name: 'BlobBeingDeletedError', key: KEY });
    expect((thrown as Error).message).toContain(KEY);
  });

  it('leaves the refs it was given untouched', () => {
    const current: ArtifactRefs = { holders: ['u1'] };
    acquireRef(KEY, current, 'u2');
    expect(current).toEqual({ holders: ['u1'] });
  });
});

describe('releaseRef', () => {
  it.each<[string, ArtifactRefs | undefined, string, ArtifactRefs | undefined]>([
    ['one of several holders', { holders: ['u1', 'u2'] }, 'u1', { holders: ['u2'] }],
    ['the last holder: marked for deletion', { holders: ['u1'] }, 'u1', DELETING],
    // Bytes stored before references were kept: nobody is known to hold them.
    ['unknown bytes: marked for deletion', undefined, 'u1', DELETING],
    ['a non-holder: no change', { holders: ['u1'] }, 'u2', undefined],
    ['a non-holder of bytes nobody holds: no change', { holders: [] }, 'u1', undefined],
    ['bytes already being deleted: no change', DELETING, 'u1', undefined],
  ])('%s', (_, current, holder, expected) => {
    expect(releaseRef(current, holder)).toEqual(expected);
  });

  it('leaves the refs it was given untouched', () => {
    const current: ArtifactRefs = { holders: ['u1', 'u2'] };
    releaseRef(current, 'u1');
    expect(current).toEqual({ holders: ['u1', 'u2'] });
  });
});

describe('acquire and release together', () => {
  /** Applies a transition the way compare-and-set does: undefined keeps what is stored. */
  const step = (refs: ArtifactRefs | undefined, next: ArtifactRefs | undefined) => next ?? refs;

  it('blocks acquiring from the last release until the bytes are forgotten', () => {
    let refs = step(undefined, acquireRef(KEY, undefined, 'u1'));
    refs = step(refs, acquireRef(KEY, refs, 'u2'));
    refs = step(refs, releaseRef(refs, 'u1'));
    expect(refs).toEqual({ holders: ['u2'] });
    refs = step(refs, releaseRef(refs, 'u2'));
    expect(refs).toEqual(DELETING);
    expect(() => acquireRef(KEY, refs, 'u3')).toThrow(BlobBeingDeletedError);
    // A redelivered release leaves the mark as it is, so the janitor may delete again.
    expect(releaseRef(refs, 'u2')).toBeUndefined();
    // Forgotten (the key removed): the bytes can be acquired afresh.
    expect(acquireRef(KEY, undefined, 'u3')).toEqual({ holders: ['u3'] });
  });
});
