/**
 * Distribution's KV buckets, named and described once. Several modules open the same bucket at
 * start-up; JetStream refuses a second creation whose configuration (description included)
 * differs, so every opener must take these exact values.
 */
export const BUCKETS = {
  updateViews: {
    name: 'update_views',
    description: 'Each update’s view, merged from its events by compare-and-set',
  },
  versionControl: {
    name: 'version_control',
    description: 'Agent version control and security pins, changed by compare-and-set',
  },
} as const;
