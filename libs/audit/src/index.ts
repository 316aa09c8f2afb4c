/** The audit log's hash chain and signed checkpoints: building and verifying records. */
export {};
