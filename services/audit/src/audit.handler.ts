import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { AuditLog } from './audit-log.service';
import type { VerdictSubject } from './record-content';

/** One durable consumer per subject (JetStream 2.9 consumers take one filter each). */
@Controller()
export class AuditHandler {
  constructor(private readonly audit: AuditLog) {}

  @OnEvents(SUBJECTS.imported)
  @OnEvents(SUBJECTS.checksumVerified)
  @OnEvents(SUBJECTS.validated)
  @OnEvents(SUBJECTS.published)
  @OnEvents(SUBJECTS.rejected)
  onVerdicts(@Payload() batch: EventBatch<VerdictSubject>): Promise<void> {
    return this.audit.recordVerdicts(batch);
  }

  @OnEvents(SUBJECTS.auditAction)
  onActions(@Payload() batch: EventBatch<typeof SUBJECTS.auditAction>): Promise<void> {
    return this.audit.recordActions(batch);
  }
}
