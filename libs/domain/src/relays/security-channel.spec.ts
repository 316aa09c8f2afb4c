import { channelCurrent, decideApply, type ChannelUpdate } from './security-channel';

const u = (updateId: string, component: string, version: string): ChannelUpdate => ({
  updateId,
  component,
  version,
});
const fw = [
  u('f1', 'firewall-rules', '26-001'),
  u('f3', 'firewall-rules', '26-010'),
  u('f2', 'firewall-rules', '26-002'),
];
const am = [
  u('a1', 'anti-malware-pattern', '19.231.00'),
  u('a2', 'anti-malware-pattern', '19.233.00'),
];
const all = [...fw, ...am];

describe('channelCurrent', () => {
  it('is the newest per component by version order, not by arrival', () => {
    expect(channelCurrent(all, new Map()).map((c) => c.updateId)).toEqual(['a2', 'f3']);
  });

  it('is the pinned update while it is published; a pin on a withdrawn one falls back', () => {
    const pins = new Map([['firewall-rules', { updateId: 'f1', by: 'op', at: 'now' }]]);
    expect(channelCurrent(all, pins).map((c) => c.updateId)).toEqual(['a2', 'f1']);
    const withoutF1 = all.filter((x) => x.updateId !== 'f1');
    expect(channelCurrent(withoutF1, pins).map((c) => c.updateId)).toEqual(['a2', 'f3']);
  });
});

describe('decideApply', () => {
  it('pins a kept older update and clears the pin for the newest', () => {
    expect(decideApply(all, 'f2', 3)).toMatchObject({
      ok: true,
      pin: 'set',
      component: 'firewall-rules',
    });
    expect(decideApply(all, 'f1', 3)).toMatchObject({ ok: true, pin: 'set' });
    expect(decideApply(all, 'f3', 3)).toMatchObject({ ok: true, pin: 'clear' });
  });

  it('refuses an update older than the kept ones, and one that is not a published security update', () => {
    expect(decideApply(all, 'f1', 2)).toMatchObject({ ok: false, code: 'not-kept' });
    expect(decideApply(all, 'nope', 3)).toMatchObject({
      ok: false,
      code: 'not-a-published-security-update',
    });
  });
});
