import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { RelayDirectory } from '../relays/relay-directory';
import { SecurityChannel } from '../relays/security-channel';
import {
  CatalogSecurityTargets,
  FleetRelayLookup,
  type RelayLookup,
  type RelaySighting,
  type SecurityTarget,
  type SecurityTargets,
} from './relay-ports';

/** A provider of the relays module, found when asked (neither module imports the other's). */
function lookup<T>(modules: ModuleRef, token: abstract new (...args: never[]) => unknown) {
  try {
    return modules.get<unknown, T>(token, { strict: false });
  } catch {
    return undefined;
  }
}

/**
 * Relays as the relays module's RelayDirectory knows them (effective groups after operator
 * assignments, relay URLs, relay groups created by API or first report). Without that module in
 * the application, the relays the fleet read model lists.
 */
@Injectable()
export class RelayDirectoryLookup implements RelayLookup {
  constructor(
    private readonly modules: ModuleRef,
    private readonly fleet: FleetRelayLookup,
  ) {}

  relaysOfGroup(group: string): Promise<RelaySighting[]> {
    const directory = lookup<Partial<RelayLookup>>(this.modules, RelayDirectory);
    return directory?.relaysOfGroup
      ? directory.relaysOfGroup(group)
      : this.fleet.relaysOfGroup(group);
  }

  groupExists(group: string): Promise<boolean> {
    const directory = lookup<Partial<RelayLookup>>(this.modules, RelayDirectory);
    return directory?.groupExists ? directory.groupExists(group) : this.fleet.groupExists(group);
  }
}

/** The security channel of the relays module (rollback pins, withdrawn updates left out). */
@Injectable()
export class SecurityChannelTargets implements SecurityTargets {
  constructor(
    private readonly modules: ModuleRef,
    private readonly catalog: CatalogSecurityTargets,
  ) {}

  current(): Promise<SecurityTarget[]> {
    const channel = lookup<Partial<SecurityTargets>>(this.modules, SecurityChannel);
    return channel?.current ? channel.current() : this.catalog.current();
  }
}
