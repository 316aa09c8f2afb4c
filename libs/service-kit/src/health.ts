import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { Public } from '@sup/auth';
import type { Response } from 'express';

export interface HealthCheck {
  name: string;
  check(): Promise<boolean>;
}
export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

/**
 * Liveness says the process is serving; readiness says it can do its job (NATS and MongoDB reachable),
 * so Kubernetes stops routing to a replica that lost either. Public: probes carry no token.
 */
@Controller('healthz')
@Public()
export class HealthController {
  constructor(@Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[]) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ status: string; checks: Record<string, string> }> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        const up = await withTimeout(c.check(), 2_000).catch(() => false);
        return [c.name, up ? 'up' : 'down'] as const;
      }),
    );
    const ok = results.every(([, state]) => state === 'up');
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(results) };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
