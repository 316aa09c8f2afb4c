import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { EventPattern } from '@nestjs/microservices';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { isSubject, type Subject } from '@sup/contracts';
import { catchError, EMPTY, isObservable } from 'rxjs';

export const DEFAULT_CONSUMER = 'main';
const CONSUMER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface OnEventOptions {
  /**
   * Logical consumer name (default `main`). Handlers with different names get separate durable
   * consumers, so each sees every message on the subject (e.g. a projection next to the main flow).
   */
  consumer?: string;
}

/** The pattern object Nest stores for an `@OnEvent(s)` handler (and normalises into its route key). */
export interface JetStreamPattern {
  subject: Subject;
  consumer: string;
  /** Present on `@OnEvents`: the handler takes an `EventBatch`. */
  batch?: true;
}

/**
 * Nest routes a handler's error through its RPC exception filters, which replace it with a generic
 * `{status, message}` (or, with an inherited HTTP filter, an unrelated TypeError), so the transport
 * could no longer tell a PermanentError from a transient one. The decorated method therefore reports
 * its own failure here, out of band, and the transport decides retry or dead letter on the original.
 */
export const handlerFailures = new AsyncLocalStorage<unknown[]>();

function reportingFailures(fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return function (this: unknown, ...args: unknown[]): unknown {
    const failures = handlerFailures.getStore();
    // Called directly (a unit test, another service method): plain semantics.
    if (!failures) return fn.apply(this, args);
    try {
      const result = fn.apply(this, args);
      if (result instanceof Promise) {
        return result.catch((error: unknown) => {
          failures.push(error);
          return undefined;
        });
      }
      if (isObservable(result)) {
        return result.pipe(
          catchError((error: unknown) => {
            failures.push(error);
            return EMPTY;
          }),
        );
      }
      return result;
    } catch (error) {
      failures.push(error);
      return undefined;
    }
  };
}

/**
 * Declares a JetStream event handler: `@OnEvent(SUBJECTS.imported)`. The handler receives the
 * parsed, contract-checked `CloudEvent` as payload and a `JetStreamEventContext` via `@Ctx()`; it is
 * acked when it resolves and retried (then dead-lettered) when it throws.
 */
export function OnEvent(subject: Subject, options: OnEventOptions = {}): MethodDecorator {
  return declare('@OnEvent', subject, options, false);
}

/**
 * Declares a batch handler: `@OnEvents(SUBJECTS.imported)` receives an `EventBatch` of up to the
 * configured batch size of contract-checked events of every entity (`<type>.*`), for one bulk write
 * and pipelined publishes. Items are acked when the handler resolves unless it marked them.
 */
export function OnEvents(subject: Subject, options: OnEventOptions = {}): MethodDecorator {
  return declare('@OnEvents', subject, options, true);
}

function declare(
  name: string,
  subject: Subject,
  options: OnEventOptions,
  batch: boolean,
): MethodDecorator {
  if (!isSubject(subject))
    throw new Error(`${name}: ${String(subject)} is not a subject of the contracts`);
  const consumer = options.consumer ?? DEFAULT_CONSUMER;
  if (!CONSUMER_NAME.test(consumer)) {
    throw new Error(`${name}: consumer name must match ${CONSUMER_NAME.source}, got "${consumer}"`);
  }
  const pattern: JetStreamPattern = batch ? { subject, consumer, batch } : { subject, consumer };

  return (target, key, descriptor) => {
    const original: unknown = descriptor.value;
    if (typeof original !== 'function')
      throw new Error(`${name} can only decorate methods (${String(key)})`);
    const wrapped = reportingFailures(original as (...args: unknown[]) => unknown);
    Object.defineProperty(wrapped, 'name', { value: (original as { name: string }).name });
    // Decorators applied before this one (listed below it) stored their metadata on the original.
    for (const metaKey of Reflect.getOwnMetadataKeys(original) as unknown[]) {
      Reflect.defineMetadata(metaKey, Reflect.getOwnMetadata(metaKey, original), wrapped);
    }
    // Stacked @OnEvent decorators add patterns instead of replacing them.
    const earlier =
      (Reflect.getOwnMetadata(PATTERN_METADATA, original) as unknown[] | undefined) ?? [];
    descriptor.value = wrapped as typeof descriptor.value;
    EventPattern([...earlier, pattern])(target, key, descriptor);
  };
}
