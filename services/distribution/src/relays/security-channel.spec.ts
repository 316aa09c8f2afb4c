import type { Actor } from '@sup/contracts';
import type { SecurityPin } from '@sup/domain';
import type { AuditEntry, AuditTrail } from '@sup/service-kit';
import { MemoryVersionedStore } from '@sup/testing';
import type { DistributionConfig } from '../config';
import type { PublishedUpdate, PublishedUpdates } from './published-updates';
import { SecurityChannel } from './security-channel';

const operator: Actor = { type: 'token', name: 'ops', role: 'operator' };
const update = (updateId: string, component: string, version: string): PublishedUpdate => ({
  updateId,
  kind: 'security',
  component,
  version,
  sha256: updateId.padEnd(64, '0'),
  size: 10,
  artifactKey: updateId.padEnd(64, '0'),
  signatureKey: updateId.padEnd(64, '1'),
  signer: { subject: 'CN=Vendor', sha256Fingerprint: 'f'.repeat(64) },
  publishedAt: '2026-11-29T10:00:00.000Z',
});

describe('SecurityChannel', () => {
  const updates = [
    update('f1', 'firewall-rules', '26-001'),
    update('f2', 'firewall-rules', '26-002'),
    update('f3', 'firewall-rules', '26-003'),
    update('f4', 'firewall-rules', '26-004'),
    update('l1', 'log-inspection-rules', '26-010'),
    { ...update('s1', 'agent', '20.0.1-1'), kind: 'software' as const },
  ];
  const setup = () => {
    const pins = new MemoryVersionedStore<SecurityPin>();
    const audited: AuditEntry[] = [];
    const audit = {
      record: (e: readonly AuditEntry[]) => Promise.resolve(void audited.push(...e)),
    };
    const published = { all: () => Promise.resolve(updates) } as unknown as PublishedUpdates;
    const config = { relays: { securityKeepPerComponent: 3 } } as DistributionConfig;
    const channel = new SecurityChannel(
      published,
      pins.asStore(),
      config,
      audit as unknown as AuditTrail,
    );
    return { channel, pins, audited };
  };
  const currentIds = async (channel: SecurityChannel) =>
    (await channel.current()).map((c) => c.updateId);

  it('offers the newest security update per component and no software', async () => {
    const { channel } = setup();
    expect(await currentIds(channel)).toEqual(['f4', 'l1']);
  });

  it('rolls a component back to a kept update, and the newest clears the pin', async () => {
    const { channel, pins, audited } = setup();
    expect(await channel.apply('f2', operator)).toEqual({
      component: 'firewall-rules',
      updateId: 'f2',
      version: '26-002',
      pinned: true,
    });
    expect(await currentIds(channel)).toEqual(['f2', 'l1']);
    expect((await pins.get('security.firewall-rules'))?.value).toMatchObject({
      updateId: 'f2',
      by: 'ops',
    });
    expect(await channel.apply('f4', operator)).toMatchObject({ pinned: false });
    expect(await currentIds(channel)).toEqual(['f4', 'l1']);
    expect(audited.map((a) => [a.action, a.outcome, a.target])).toEqual([
      ['security-update-applied', 'accepted', 'f2'],
      ['security-update-applied', 'accepted', 'f4'],
    ]);
  });

  it('refuses with 409 what is not kept or not a published security update, and records the refusal', async () => {
    const { channel, pins, audited } = setup();
    await expect(channel.apply('f1', operator)).rejects.toMatchObject({
      status: 409,
      response: { code: 'not-kept' },
    });
    await expect(channel.apply('s1', operator)).rejects.toMatchObject({
      response: { code: 'not-a-published-security-update' },
    });
    expect(await pins.keys()).toEqual([]);
    expect(audited.map((a) => a.outcome)).toEqual(['refused', 'refused']);
  });
});
