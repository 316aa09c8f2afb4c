import { compareParsed, softwareLine, type Version } from '@sup/contracts';
import type { AlertObservation } from '../alert-lifecycle';
import type { RuleEvaluation } from '../alert-rules';
import {
  bounded,
  isOffered,
  softwareVersion,
  softwareVersions,
  type RuleComputer,
  type RuleSettings,
  type RulesSnapshot,
  type RuleUpdate,
} from './snapshot';

export const SOFTWARE_UPDATE_AVAILABLE = 'software-update-available';

interface Line {
  role: 'agent' | 'relay';
  platform: string;
  line: string;
  target: { update: RuleUpdate; version: Version };
  older: string[];
}

/**
 * `software-update-available` (info): per role, platform and major.minor line that computers run,
 * the newest published build of that line when some of them run an older one. One alert per line,
 * with the count and the target build. A newer line raises nothing until some computer runs it
 * (the reference: agents on 9.6.100 hear of 9.6.200, never of 10.0.x). Agents are judged against
 * agent builds, relays against relay builds. Versions compare in canonical form, so
 * `20.0.1-12345` and `20.0.1.12345` are one build.
 */
export function softwareUpdateAvailable(
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
): RuleEvaluation {
  // The newest offered build per component (= role), platform and line.
  const newest = new Map<string, { update: RuleUpdate; version: Version }>();
  for (const u of snapshot.updates) {
    if (u.kind !== 'software' || !u.platform || !isOffered(u)) continue;
    const version = softwareVersion(u.version);
    if (!version) continue;
    const key = lineKey(u.component, u.platform, softwareLine(version.canonical));
    const best = newest.get(key);
    if (!best || compareParsed(version, best.version) > 0) newest.set(key, { update: u, version });
  }
  const lines = new Map<string, Line>();
  const parse = softwareVersions();
  // The verdict per role, platform and reported build (few distinct ones): the computer's line,
  // or null when it runs the newest build of its line (or one that cannot be read).
  const verdicts = new Map<string, Map<string, Line | null>>();
  const verdict = (c: RuleComputer): Line | null => {
    const scope = `${c.role}/${c.platform}`;
    let byVersion = verdicts.get(scope);
    if (!byVersion) verdicts.set(scope, (byVersion = new Map<string, Line | null>()));
    let found = byVersion.get(c.version);
    if (found !== undefined) return found;
    const version = parse(c.version);
    const name = version && softwareLine(version.canonical);
    const key = name && lineKey(c.role, c.platform, name);
    const target = key ? newest.get(key) : undefined;
    found = null;
    if (version && name && key && target && compareParsed(version, target.version) < 0) {
      found = lines.get(key) ?? {
        role: c.role,
        platform: c.platform,
        line: name,
        target,
        older: [],
      };
      lines.set(key, found);
    }
    byVersion.set(c.version, found);
    return found;
  };
  for (const c of snapshot.computers) verdict(c)?.older.push(c.id);
  const at = now.toISOString();
  const holding = [...lines.entries()].map(([key, l]): AlertObservation => {
    const { target } = l;
    const nouns = l.role === 'agent' ? 'agents' : 'relays';
    return {
      rule: SOFTWARE_UPDATE_AVAILABLE,
      subject: key,
      severity: 'info',
      summary: `${l.older.length} ${nouns} on ${l.platform} ${l.line} run builds older than ${target.version.canonical}`,
      updateId: target.update.updateId,
      details: {
        role: l.role,
        platform: l.platform,
        line: l.line,
        target: target.version.canonical,
        count: l.older.length,
        computers: bounded(l.older, settings.listLimit),
      },
      // A newer target is a new sighting; more or fewer computers behind it are the same one.
      observationId: `${key}>${target.version.canonical}`,
      at,
    };
  });
  return {
    rule: SOFTWARE_UPDATE_AVAILABLE,
    holding,
    clearedReason: 'every computer on the line runs the newest build',
  };
}

const lineKey = (role: string, platform: string, line: string): string =>
  `${role}/${platform}/${line}`;
