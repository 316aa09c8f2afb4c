/** API authentication and role-based authorisation for every service's operator routes. */
export * from './auth-config';
export * from './auth.guard';
export * from './auth.module';
export * from './authenticator';
export * from './current-actor.decorator';
export * from './oidc';
export * from './roles.decorator';
export * from './route-catalog';
export * from './token-file';
export * from './watched-file';
